import type { AnnouncedService } from "@operator-plugin-framework/registry";
import { type CallerSide, type LabelBound, type MethodHandler, OTHER } from "@operator-plugin-framework/wire";

/** How a call's messages flow, as grpc-go's and OpenTelemetry's metrics name it. */
export type CallType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** The labels of every call metric of one method (a type alias, so prom-client takes it as labels). */
export type CallLabels = {
  plugin: string;
  service: string;
  method: string;
  type: CallType | typeof OTHER;
  /** "operator" for calls to the plugin, "plugin" for its calls to the operator's host services. */
  caller: CallerSide;
};

function callType(clientStreaming: boolean, serverStreaming: boolean): CallType {
  if (clientStreaming) return serverStreaming ? "bidi_stream" : "client_stream";
  return serverStreaming ? "server_stream" : "unary";
}

/**
 * The label sets of one session's methods, built once at registration from
 * the services the plugin announced: a method path outside them, or beyond
 * the server-wide bound on method labels, is counted as service and method
 * `other`, so callers and plugins cannot add time series at will.
 */
export function methodLabels(
  plugin: string,
  services: readonly AnnouncedService[],
  bound: LabelBound,
): { byPath: Map<string, CallLabels>; other: CallLabels } {
  const other: CallLabels = { plugin, service: OTHER, method: OTHER, type: OTHER, caller: "operator" };
  const byPath = new Map<string, CallLabels>();
  for (const service of services) {
    for (const method of service.methods) {
      const path = `/${service.name}/${method.name}`;
      // One bound for the pair, so service and method are admitted or refused together.
      if (bound.value(path) === OTHER) continue;
      byPath.set(path, {
        plugin,
        service: service.name,
        method: method.name,
        type: callType(method.clientStreaming, method.serverStreaming),
        caller: "operator",
      });
    }
  }
  return { byPath, other };
}

const KIND_TYPES: Record<MethodHandler["kind"], CallType> = {
  unary: "unary",
  clientStream: "client_stream",
  serverStream: "server_stream",
  bidi: "bidi_stream",
};

/**
 * The labels of a plugin's call to one of the operator's host services. Only
 * methods the operator serves are observed, so their number is the
 * operator's to choose; the server-wide bound still applies.
 */
export function hostCallLabels(
  plugin: string,
  path: string,
  kind: MethodHandler["kind"],
  bound: LabelBound,
): CallLabels {
  if (plugin === OTHER || bound.value(path) === OTHER) {
    return { plugin, service: OTHER, method: OTHER, type: OTHER, caller: "plugin" };
  }
  const slash = path.lastIndexOf("/");
  return {
    plugin,
    service: path.slice(1, slash),
    method: path.slice(slash + 1),
    type: KIND_TYPES[kind],
    caller: "plugin",
  };
}
