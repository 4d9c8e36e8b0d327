import { EventEmitter } from "node:events";
import {
  type CallOptions,
  type ClientUnaryCall,
  Metadata,
  type ServiceError,
  type StatusObject,
  status,
} from "@grpc/grpc-js";
import type { ChannelCall, ChannelInterface, InterceptingListener } from "@operator-plugin-framework/wire";

type Callback = (error: ServiceError | null, value?: unknown) => void;

/** The unary method shape of a generated client's `service` definition. */
interface UnaryDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
  originalName?: string;
}

/**
 * Gives every unary method of a generated grpc-js client a cheaper path
 * straight onto `channel`, used when the client has no interceptors. grpc-js's
 * `makeUnaryRequest` captures a stack trace and builds an interceptor chain
 * for every call; on the tunnel that was about a third of the operator's
 * CPU per small call. This path does neither, and otherwise keeps grpc-js's
 * contract: the same arguments, callback, `metadata` and `status` events,
 * `cancel()`, and `ServiceError`s with the same code, details and trailers.
 * The one difference: an error's stack shows where the call failed, not
 * where it was made. A call with interceptors, providers, credentials or a
 * parent in its options takes grpc-js's own path.
 *
 * `ctor.service` is the definition `makeGenericClientConstructor` (and so
 * ts-proto) puts on the class; a client without one is left as it is.
 */
export function installDirectUnary(client: object, ctor: unknown, channel: ChannelInterface): void {
  const service = (ctor as { service?: Record<string, UnaryDefinition> }).service;
  if (!service || typeof service !== "object") return;
  const target = client as Record<string, unknown>;
  for (const [name, definition] of Object.entries(service)) {
    if (definition.requestStream || definition.responseStream) continue;
    const original = target[name];
    if (typeof original !== "function") continue;
    const method = function (this: unknown, argument: unknown, ...rest: unknown[]): ClientUnaryCall {
      const args = unaryArguments(rest[0], rest[1], rest[2]);
      if (needsGrpcPath(args.options)) return original.call(this, argument, ...rest);
      return new DirectUnaryCall(channel, definition, args.callback, argument, args.metadata, args.options);
    };
    // grpc-js puts the method's definition on its function; keep it readable.
    Object.assign(method, definition);
    target[name] = method;
    if (definition.originalName && target[definition.originalName] === original) {
      target[definition.originalName] = method;
    }
  }
}

/** grpc-js's optional (metadata, options, callback) arguments, with its error for a wrong set. */
function unaryArguments(
  a: unknown,
  b: unknown,
  c: unknown,
): { metadata: Metadata; options: CallOptions; callback: Callback } {
  if (typeof a === "function") return { metadata: new Metadata(), options: {}, callback: a as Callback };
  if (typeof b === "function") {
    return a instanceof Metadata
      ? { metadata: a, options: {}, callback: b as Callback }
      : { metadata: new Metadata(), options: (a ?? {}) as CallOptions, callback: b as Callback };
  }
  if (!(a instanceof Metadata && b instanceof Object && typeof c === "function")) {
    throw new Error("Incorrect arguments passed");
  }
  return { metadata: a, options: b as CallOptions, callback: c as Callback };
}

function needsGrpcPath(options: CallOptions): boolean {
  return Boolean(
    options.interceptors?.length ||
      options.interceptor_providers?.length ||
      options.credentials ||
      options.parent,
  );
}

/**
 * The call object the caller gets back (grpc-js's ClientUnaryCall contract),
 * and the listener of the channel's call: one object per call, no closures.
 */
class DirectUnaryCall extends EventEmitter implements ClientUnaryCall, InterceptingListener {
  private response: unknown = null;
  private received = false;
  // A response that could not be parsed: the call ends with this, whatever the plugin said.
  private readError: StatusObject | undefined;
  private done = false;
  // True until the method that started the call returns.
  private starting = true;
  private readonly inner: ChannelCall;

  constructor(
    channel: ChannelInterface,
    private readonly definition: UnaryDefinition,
    private readonly callback: Callback,
    argument: unknown,
    metadata: Metadata,
    options: CallOptions,
  ) {
    super();
    const call = channel.createCall(
      definition.path,
      options.deadline ?? Number.POSITIVE_INFINITY,
      options.host,
      null,
      options.propagate_flags,
    );
    this.inner = call;
    call.start(metadata, this);
    call.startRead();
    let bytes: Buffer | undefined;
    try {
      bytes = definition.requestSerialize(argument);
    } catch (err) {
      call.cancelWithStatus(
        status.INTERNAL,
        `Request message serialization failure: ${(err as Error).message}`,
      );
    }
    if (bytes) {
      call.sendMessageWithContext({}, bytes);
      call.halfClose();
    }
    this.starting = false;
  }

  cancel(): void {
    this.inner.cancelWithStatus(status.CANCELLED, "Cancelled on client");
  }
  getPeer(): string {
    return this.inner.getPeer();
  }
  getAuthContext(): ReturnType<ClientUnaryCall["getAuthContext"]> {
    return this.inner.getAuthContext();
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.emit("metadata", metadata);
  }

  onReceiveMessage(message: Buffer): void {
    if (this.received) {
      this.inner.cancelWithStatus(status.UNIMPLEMENTED, "Too many responses received");
      return;
    }
    try {
      this.response = this.definition.responseDeserialize(message);
      this.received = true;
    } catch (err) {
      this.readError = {
        code: status.INTERNAL,
        details: `Response message parsing error: ${(err as Error).message}`,
        metadata: new Metadata(),
      };
      this.inner.cancelWithStatus(this.readError.code, this.readError.details);
    }
  }

  onReceiveStatus(result: StatusObject): void {
    if (this.done) return;
    this.done = true;
    // A status while the caller is still in the method (a request that
    // could not be serialized) comes on the next tick, as from grpc-js:
    // the caller has not attached its listeners yet.
    if (this.starting) process.nextTick(() => this.report(result));
    else this.report(result);
  }

  private report(result: StatusObject): void {
    const final = this.readError ?? result;
    if (final.code !== status.OK) this.callback(serviceError(final));
    else if (!this.received)
      this.callback(
        serviceError({
          code: status.UNIMPLEMENTED,
          details: "No message received",
          metadata: final.metadata,
        }),
      );
    else this.callback(null, this.response);
    this.emit("status", final);
  }
}

/** A grpc-js ServiceError: its message format, with the status's fields on it. */
function serviceError(result: StatusObject): ServiceError {
  const error = new Error(`${result.code} ${status[result.code]}: ${result.details}`);
  return Object.assign(error, result) as ServiceError;
}
