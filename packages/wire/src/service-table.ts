import { type ServiceDefinition, status, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { ServiceDescriptor } from "@operator-plugin-framework/proto";
import { PluginFrameworkError } from "./errors.js";

/** One method the plugin serves, ready to dispatch. */
export interface MethodHandler {
  path: string;
  kind: "unary" | "clientStream" | "serverStream" | "bidi";
  /**
   * The implementation's function, called as grpc.Server calls it: with the
   * call object, and a callback for unary and client-streaming methods.
   */
  func: (...args: [call: unknown, callback?: unknown]) => unknown;
  serialize: (value: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
}

/** Options of {@link buildServiceTable}. */
export interface ServiceTableOptions {
  /** Who serves the table, for error messages: `plugin "aws"`, or `the operator's host services`. */
  owner: string;
  /** Answer UNIMPLEMENTED for missing methods instead of refusing the table. */
  allowPartialImplementation: boolean;
}

const MAX_MISSING_LISTED = 20;

// What grpc.Server does for a method the implementation lacks, but saying
// which plugin, since the caller is an operator talking to many.
function unimplemented(kind: MethodHandler["kind"], owner: string, path: string): MethodHandler["func"] {
  const error = {
    code: status.UNIMPLEMENTED,
    details: `${owner} does not implement ${path} (it serves a partial implementation)`,
  };
  return kind === "unary" || kind === "clientStream"
    ? (_call, callback) => (callback as (err: unknown) => void)(error)
    : (call) => (call as { emit(event: string, err: unknown): void }).emit("error", error);
}

/** A service and its implementation: exactly what `grpc.Server.addService` takes. */
export type ServiceEntry = readonly [ServiceDefinition, UntypedServiceImplementation | object];

/**
 * Builds the dispatch table by method path, as grpc.Server.addService does:
 * implementation keys match the definition's keys or the methods' original
 * names. Every method is announced, so a missing implementation throws
 * INVALID_ARGUMENT listing them all, unless `allowPartialImplementation`
 * makes those methods answer UNIMPLEMENTED.
 */
export function buildServiceTable(
  services: readonly ServiceEntry[],
  options: ServiceTableOptions,
): {
  handlers: Map<string, MethodHandler>;
  descriptors: ServiceDescriptor[];
} {
  const handlers = new Map<string, MethodHandler>();
  const descriptors: ServiceDescriptor[] = [];
  const missing: string[] = [];
  for (const [definition, implementation] of services) {
    const impl = implementation as Record<string, unknown>;
    let serviceName = "";
    const methods: ServiceDescriptor["methods"] = [];
    for (const [key, method] of Object.entries(definition)) {
      const func = impl[key] ?? (method.originalName ? impl[method.originalName] : undefined);
      const [, service = "", name = key] = /^\/([^/]+)\/([^/]+)$/.exec(method.path) ?? [];
      serviceName = service;
      methods.push({ name, clientStreaming: method.requestStream, serverStreaming: method.responseStream });
      if (handlers.has(method.path)) throw new TypeError(`method ${method.path} is served twice`);
      const kind = method.requestStream
        ? method.responseStream
          ? "bidi"
          : "clientStream"
        : method.responseStream
          ? "serverStream"
          : "unary";
      if (typeof func !== "function") missing.push(`${method.path} (key "${key}")`);
      handlers.set(method.path, {
        path: method.path,
        kind,
        func:
          typeof func === "function"
            ? func.bind(implementation)
            : unimplemented(kind, options.owner, method.path),
        serialize: method.responseSerialize,
        deserialize: method.requestDeserialize,
      });
    }
    descriptors.push({ name: serviceName, methods });
  }
  if (missing.length > 0 && !options.allowPartialImplementation) {
    const listed = missing.slice(0, MAX_MISSING_LISTED);
    if (missing.length > listed.length) listed.push(`and ${missing.length - listed.length} more`);
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `${options.owner} announces methods its implementation lacks: ${listed.join(", ")}; ` +
        "implement them, or pass allowPartialImplementation: true to answer UNIMPLEMENTED for them",
    );
  }
  return { handlers, descriptors };
}
