import { type ServiceDefinition, status, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { ServiceDescriptor } from "@operator-plugin-framework/proto";

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

// What grpc.Server does for a method the implementation lacks, message included.
function unimplemented(kind: MethodHandler["kind"], key: string): MethodHandler["func"] {
  const error = { code: status.UNIMPLEMENTED, details: `The server does not implement the method ${key}` };
  return kind === "unary" || kind === "clientStream"
    ? (_call, callback) => (callback as (err: unknown) => void)(error)
    : (call) => (call as { emit(event: string, err: unknown): void }).emit("error", error);
}

/** A service and its implementation: exactly what `grpc.Server.addService` takes. */
export type ServiceEntry = readonly [ServiceDefinition, UntypedServiceImplementation | object];

/**
 * Builds the dispatch table by method path, as grpc.Server.addService does:
 * implementation keys match the definition's keys or the methods' original
 * names. Missing implementations are left out, so they answer UNIMPLEMENTED.
 */
export function buildServiceTable(services: readonly ServiceEntry[]): {
  handlers: Map<string, MethodHandler>;
  descriptors: ServiceDescriptor[];
} {
  const handlers = new Map<string, MethodHandler>();
  const descriptors: ServiceDescriptor[] = [];
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
      handlers.set(method.path, {
        path: method.path,
        kind,
        func: typeof func === "function" ? func.bind(implementation) : unimplemented(kind, key),
        serialize: method.responseSerialize,
        deserialize: method.requestDeserialize,
      });
    }
    descriptors.push({ name: serviceName, methods });
  }
  return { handlers, descriptors };
}
