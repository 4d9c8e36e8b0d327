import type { PluginRegistry } from "@operator-plugin-framework/registry";
import { DEFAULT_SETTINGS, defaultLogger } from "@operator-plugin-framework/wire";
import { HostServices } from "./host-services.js";
import { type ListenAddress, parseListenAddress } from "./listen-address.js";
import { LogBudget } from "./log-budget.js";
import { noopServerObserver } from "./observability/server-observer.js";
import type { PluginServerOptions } from "./plugin-server-options.js";
import type { StreamContext } from "./plugin-stream.js";
import { DEFAULT_STREAM_CAPS, StreamCaps } from "./stream-caps.js";

/** Defaults not shared with the plugin side (those are in the wire package's DEFAULT_SETTINGS). */
const DEFAULT_REGISTER_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_GRACE_MS = 10_000;
const DEFAULT_MAX_QUEUED_CALLS = 10_000;
const DEFAULT_KEEPALIVE = { intervalMs: 10_000, timeoutMs: 20_000 };

/**
 * Validates a server's options and fills in every default, once, so the rest
 * of the server reads plain values. Throws INVALID_ARGUMENT for a bad listen
 * address.
 */
export function resolveStreamContext(
  options: PluginServerOptions,
  registry: PluginRegistry,
  hooks: Pick<StreamContext, "refusal" | "track">,
): { listen: ListenAddress[]; context: StreamContext } {
  const logger = options.logger ?? defaultLogger;
  const listen = (Array.isArray(options.listen) ? options.listen : [options.listen]).map(parseListenAddress);
  const maxReceive = options.maxReceiveMessageSize ?? DEFAULT_SETTINGS.maxMessageSize;
  const maxConcurrentStreams = options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams;
  const authenticator = options.authenticator === "none" ? undefined : options.authenticator;
  if (options.authenticator === undefined) {
    process.emitWarning(
      'createPluginServer() has no authenticator: plugins are not authenticated. Choose one, or pass authenticator: "none" for local development.',
      "PluginServerWarning",
    );
  }
  if (!authenticator) logger.warn({}, "plugin server does not authenticate plugins (development only)");
  const context: StreamContext = {
    registry,
    authenticator,
    authorizeName: options.authorizeName,
    limits: {
      maxReceiveMessageSize: maxReceive,
      maxSendMessageSize: options.maxSendMessageSize ?? DEFAULT_SETTINGS.maxMessageSize,
      maxConcurrentStreams,
      maxQueuedCalls: options.maxQueuedCalls ?? DEFAULT_MAX_QUEUED_CALLS,
    },
    localSettings: {
      initialWindowSize: options.initialWindowSize ?? DEFAULT_SETTINGS.initialWindowSize,
      maxChunkSize: options.maxChunkSize ?? DEFAULT_SETTINGS.maxChunkSize,
      maxConcurrentStreams,
      maxMessageSize: maxReceive,
      pingIntervalMs: 0,
    },
    registerTimeoutMs: options.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS,
    keepalive: { ...DEFAULT_KEEPALIVE, ...options.keepalive },
    maxConnectionAgeMs: options.maxConnectionAgeMs,
    drainGraceMs: options.drainGraceMs ?? DEFAULT_DRAIN_GRACE_MS,
    logger,
    refusalLog: new LogBudget(),
    observer: noopServerObserver,
    caps: new StreamCaps({
      maxStreamsPerConnection: options.maxStreamsPerConnection ?? DEFAULT_STREAM_CAPS.maxStreamsPerConnection,
      maxUnregisteredStreamsPerConnection:
        options.maxUnregisteredStreamsPerConnection ??
        DEFAULT_STREAM_CAPS.maxUnregisteredStreamsPerConnection,
      maxUnregisteredStreams: options.maxUnregisteredStreams ?? DEFAULT_STREAM_CAPS.maxUnregisteredStreams,
      maxSessionsPerIdentity: options.maxSessionsPerIdentity ?? DEFAULT_STREAM_CAPS.maxSessionsPerIdentity,
    }),
    host: {
      services: new HostServices(options.hostServices),
      authorize: options.authorizeHostCall,
      logger,
    },
    ...hooks,
  };
  return { listen, context };
}
