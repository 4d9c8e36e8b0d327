import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServiceDefinition,
} from "@grpc/grpc-js";
import type { ServiceEntry } from "./service-entry.js";

type RequestOf<M> = M extends { requestDeserialize(bytes: Buffer): infer Q } ? Q : unknown;
type ResponseOf<M> = M extends { responseSerialize(value: infer R): Buffer } ? R : unknown;

/**
 * The grpc-js handler for one method. ts-proto marks each method's kind with
 * literal `requestStream` / `responseStream` types, so the handler's kind is
 * checked too; a definition typed only `boolean` accepts any of the four.
 */
export type MethodImplementation<M> = M extends { requestStream: true; responseStream: true }
  ? handleBidiStreamingCall<RequestOf<M>, ResponseOf<M>>
  : M extends { requestStream: true; responseStream: false }
    ? handleClientStreamingCall<RequestOf<M>, ResponseOf<M>>
    : M extends { requestStream: false; responseStream: true }
      ? handleServerStreamingCall<RequestOf<M>, ResponseOf<M>>
      : M extends { requestStream: false; responseStream: false }
        ? handleUnaryCall<RequestOf<M>, ResponseOf<M>>
        :
            | handleUnaryCall<RequestOf<M>, ResponseOf<M>>
            | handleClientStreamingCall<RequestOf<M>, ResponseOf<M>>
            | handleServerStreamingCall<RequestOf<M>, ResponseOf<M>>
            | handleBidiStreamingCall<RequestOf<M>, ResponseOf<M>>;

/**
 * What implements service definition `D`: a handler for each of its methods,
 * with the types grpc.Server passes. For a ts-proto definition this is the
 * generated `...Server` interface, so `GreeterServiceServer` satisfies
 * `ServiceImplementation<typeof GreeterServiceService>`.
 */
export type ServiceImplementation<D> = { [K in keyof D]: MethodImplementation<D[K]> };

/**
 * The `services` of `connectPlugin`, checked pair by pair: in each
 * `[definition, implementation]`, the implementation must implement that
 * definition, every method of it unless `Partial` is true (the plugin was
 * started with `allowPartialImplementation: true`). Definitions with an index
 * signature (a plain grpc-js `ServiceDefinition`, an array built at run time)
 * name no methods the compiler knows, so their pairs are left as they are.
 */
export type CheckedServices<S extends readonly ServiceEntry[], AllowPartial extends boolean = false> = {
  readonly [I in keyof S]: S[I] extends readonly [infer D, unknown]
    ? string extends keyof D
      ? S[I]
      : readonly [D, true extends AllowPartial ? Partial<ServiceImplementation<D>> : ServiceImplementation<D>]
    : S[I];
};

/**
 * Pairs a service definition with its implementation, checked at compile
 * time: an implementation of another service, or one that misses a method or
 * has a handler of the wrong kind or message type, does not compile.
 *
 * @example
 * connectPlugin({
 *   name: "aws", target: "https://operator:8443",
 *   services: [service(GreeterServiceService, greeterImpl)],
 * });
 */
export function service<const D extends ServiceDefinition>(
  definition: D,
  implementation: NoInfer<ServiceImplementation<D>>,
): readonly [D, ServiceImplementation<D>] {
  return [definition, implementation];
}
