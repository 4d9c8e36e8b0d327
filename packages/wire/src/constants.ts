import type { Settings } from "@operator-plugin-framework/proto";

/** The protocol revision this package speaks. 0 is the seed (Go prototype) protocol. */
export const PROTOCOL_REVISION = 1;

/**
 * The revision at which plugins may call the operator's host services: ids
 * are split by direction (the operator's odd, the plugin's even) and the
 * ack lists the host services. The operator speaks up to this revision.
 */
export const HOST_SERVICES_REVISION = 2;

/** Full path of the one framework method. kube-rbac-proxy authorizes this path. */
export const PLUGIN_STREAM_PATH = "/pluginframework.v1.PluginFrameworkService/PluginStream";

/** Receiving-side defaults, used wherever a peer leaves a Settings field at 0. */
export const DEFAULT_SETTINGS: Readonly<Required<Settings>> = Object.freeze({
  initialWindowSize: 4 << 20,
  maxChunkSize: 1 << 20,
  maxConcurrentStreams: 1000,
  // grpc-js's default maximum receive message size.
  maxMessageSize: 4 * 1024 * 1024,
  pingIntervalMs: 0,
});

/** Fills the zero fields of peer settings with defaults. */
export function effectiveSettings(settings: Partial<Settings> | undefined): Required<Settings> {
  const pick = (value: number | undefined, fallback: number) => (value && value > 0 ? value : fallback);
  return {
    initialWindowSize: pick(settings?.initialWindowSize, DEFAULT_SETTINGS.initialWindowSize),
    maxChunkSize: pick(settings?.maxChunkSize, DEFAULT_SETTINGS.maxChunkSize),
    maxConcurrentStreams: pick(settings?.maxConcurrentStreams, DEFAULT_SETTINGS.maxConcurrentStreams),
    maxMessageSize: pick(settings?.maxMessageSize, DEFAULT_SETTINGS.maxMessageSize),
    pingIntervalMs: settings?.pingIntervalMs ?? 0,
  };
}

/** Largest stream id; a session that reaches it is drained, as HTTP/2 does with GOAWAY. */
export const MAX_STREAM_ID = 0xffff_ffff;
