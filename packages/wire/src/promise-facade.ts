import { type Client, type ClientWritableStream, Metadata, status } from "@grpc/grpc-js";
import { onAbort } from "./abort-watchers.js";
import { PluginFrameworkError } from "./errors.js";
import type { ChannelInterface } from "./grpc-internals.js";

/** Options of one facade call. */
export interface CallOptions {
  /** Time allowed for the call, in milliseconds. Default: no deadline. */
  timeoutMs?: number;
  /** Absolute deadline; the earlier of this and `timeoutMs` applies. Default: none. */
  deadline?: Date;
  /** Aborting cancels the call; it then fails with CANCELLED. */
  signal?: AbortSignal;
  /** Request metadata. Default: none. */
  metadata?: Metadata;
}

/**
 * The shape of one method of a ts-proto (`outputServices=grpc-js`) service
 * definition. Method syntax on purpose: it lets a definition whose serializer
 * takes one concrete message type match.
 */
export interface MethodShape {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

type RequestOf<M> = M extends { requestSerialize(value: infer R): Buffer } ? R : never;
type ResponseOf<M> = M extends { responseDeserialize(bytes: Buffer): infer R } ? R : never;

/** Request messages for a streaming call: any iterable, sync or async. */
export type RequestStream<T> = AsyncIterable<T> | Iterable<T>;

/** One method of a service, promise and async-iterable style. */
export type FacadeMethod<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: RequestStream<RequestOf<M>>, options?: CallOptions) => Promise<ResponseOf<M>>
      : (requests: RequestStream<RequestOf<M>>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>;

/** A whole service, promise and async-iterable style, typed from its definition. */
export type ServiceFacade<S> = { [K in keyof S]: FacadeMethod<S[K]> };

/*
 * The promise and async-iterable face of a grpc-js client, shared by both
 * directions: the operator calling a plugin (registry's `service()`) and a
 * plugin calling its operator's host services (client's `hostService()`).
 */

/**
 * Builds the facade for a service on a grpc-js client whose channel routes
 * through a tunnel. Every method fails with a PluginFrameworkError, whichever of the
 * four call kinds it is and whether or not interceptors run: the grpc-js
 * `ServiceError` it replaces is kept as the `cause`.
 *
 * @param channel When given (no interceptors configured), unary calls are
 *   driven straight on it, skipping the grpc-js Client machinery.
 */
export function createFacade<S extends Record<string, MethodShape>>(
  client: Client,
  definition: S,
  channel?: ChannelInterface,
): ServiceFacade<S> {
  const facade: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    facade[key] = method.requestStream
      ? method.responseStream
        ? (requests: RequestStream<unknown>, options?: CallOptions) => bidi(client, method, requests, options)
        : (requests: RequestStream<unknown>, options?: CallOptions) =>
            clientStream(client, method, requests, options)
      : method.responseStream
        ? (request: unknown, options?: CallOptions) => serverStream(client, method, request, options)
        : channel
          ? (request: unknown, options?: CallOptions) => unaryOnChannel(channel, method, request, options)
          : (request: unknown, options?: CallOptions) => unary(client, method, request, options);
  }
  return facade as ServiceFacade<S>;
}

/**
 * One unary call driven straight on a channel, without a grpc-js Client: no
 * interceptor chain and no stack capture per call, which is most of the
 * client-side cost of a small call. Used when no interceptors are configured.
 */
export function unaryOnChannel<Res>(
  channel: ChannelInterface,
  method: MethodShape,
  request: unknown,
  options: CallOptions = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(options.signal));
    let bytes: Buffer;
    try {
      bytes = method.requestSerialize(request);
    } catch (err) {
      return reject(
        new PluginFrameworkError(
          status.INTERNAL,
          `Request message serialization failure: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    }
    const call = channel.createCall(method.path, deadlineOf(options), null, null, null);
    let response: Res | undefined;
    let received = false;
    const detach = onAbort(options.signal, () =>
      call.cancelWithStatus(status.CANCELLED, "Cancelled on client"),
    );
    call.start(options.metadata ?? new Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(message: Buffer) {
        // As grpc-js's client-streaming call does; its unary call would wait for a read that never comes.
        if (received) return call.cancelWithStatus(status.UNIMPLEMENTED, "Too many responses received");
        try {
          response = method.responseDeserialize(message) as Res;
          received = true;
        } catch (err) {
          call.cancelWithStatus(status.INTERNAL, `Response message parsing error: ${(err as Error).message}`);
        }
      },
      onReceiveStatus(result) {
        detach();
        if (result.code === status.OK) {
          if (received) resolve(response as Res);
          else
            reject(
              new PluginFrameworkError(status.UNIMPLEMENTED, "No message received", {
                metadata: result.metadata,
              }),
            );
        } else reject(new PluginFrameworkError(result.code, result.details, { metadata: result.metadata }));
      },
    });
    call.sendMessageWithContext({}, bytes);
    call.halfClose();
    call.startRead();
  });
}

/** A unary call through the grpc-js Client, so that its interceptors run. */
function unary<Res>(
  client: Client,
  method: MethodShape,
  request: unknown,
  options: CallOptions = {},
): Promise<Res> {
  return promiseCall<Res>(options, (done) =>
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      options.metadata ?? new Metadata(),
      { deadline: deadlineOf(options) },
      done,
    ),
  );
}

function clientStream<Res>(
  client: Client,
  method: MethodShape,
  requests: RequestStream<unknown>,
  options: CallOptions = {},
): Promise<Res> {
  return promiseCall<Res>(options, (done, sourceFailed) => {
    const call = client.makeClientStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      options.metadata ?? new Metadata(),
      { deadline: deadlineOf(options) },
      done,
    );
    void pump(requests, call, sourceFailed);
    return call;
  });
}

/**
 * A grpc-js callback-style call as a promise that rejects with a
 * PluginFrameworkError; the signal cancels it. A request source that throws
 * cancels the call, and the call fails with that error.
 */
function promiseCall<Res>(
  options: CallOptions,
  start: (
    done: (err: Error | null, value?: unknown) => void,
    sourceFailed: (reason: unknown) => void,
  ) => { cancel(): void },
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(options.signal));
    let detach = () => {};
    let sourceError: { reason: unknown } | undefined;
    const call = start(
      (err, value) => {
        detach();
        if (err) reject(callError(err, sourceError));
        else resolve(value as Res);
      },
      (reason) => {
        sourceError = { reason };
      },
    );
    detach = onAbort(options.signal, () => call.cancel());
  });
}

async function* serverStream(
  client: Client,
  method: MethodShape,
  request: unknown,
  options: CallOptions = {},
): AsyncIterable<unknown> {
  if (options.signal?.aborted) throw cancelled(options.signal);
  yield* readAll(
    () =>
      client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        options.metadata ?? new Metadata(),
        { deadline: deadlineOf(options) },
      ),
    options.signal,
  );
}

async function* bidi(
  client: Client,
  method: MethodShape,
  requests: RequestStream<unknown>,
  options: CallOptions = {},
): AsyncIterable<unknown> {
  if (options.signal?.aborted) throw cancelled(options.signal);
  yield* readAll((sourceFailed) => {
    const call = client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      options.metadata ?? new Metadata(),
      { deadline: deadlineOf(options) },
    );
    void pump(requests, call, sourceFailed);
    return call;
  }, options.signal);
}

/**
 * Starts a call and yields every response; leaving the loop early cancels the
 * call. Whatever fails, starting included, surfaces as a PluginFrameworkError.
 */
async function* readAll(
  start: (sourceFailed: (reason: unknown) => void) => AsyncIterable<unknown> & { cancel(): void },
  signal: AbortSignal | undefined,
): AsyncIterable<unknown> {
  let sourceError: { reason: unknown } | undefined;
  let call: (AsyncIterable<unknown> & { cancel(): void }) | undefined;
  let detach = () => {};
  let finished = false;
  try {
    call = start((reason) => {
      sourceError = { reason };
    });
    const started = call;
    detach = onAbort(signal, () => started.cancel());
    for await (const message of call) yield message;
    finished = true;
  } catch (err) {
    throw callError(err, sourceError);
  } finally {
    detach();
    if (!finished) call?.cancel();
  }
}

/**
 * Writes every request with backpressure, then half-closes; a failing source
 * cancels the call. Once the call has ended, it stops reading the source,
 * which closes it (its `finally` runs): a call that fails while the source
 * waits for room would otherwise hold the source open forever.
 */
async function pump(
  requests: RequestStream<unknown>,
  call: ClientWritableStream<unknown> & { cancel(): void },
  sourceFailed: (reason: unknown) => void,
): Promise<void> {
  let ended = false;
  call.once("status", () => {
    ended = true;
  });
  try {
    for await (const request of requests) {
      if (ended) return;
      if (!call.write(request)) await roomOrEnd(call);
    }
    if (!ended) call.end();
  } catch (err) {
    sourceFailed(err);
    call.cancel();
  }
}

/** Resolves when the call can take more requests, or has ended. */
function roomOrEnd(call: ClientWritableStream<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("status", done);
      resolve();
    };
    call.on("drain", done);
    call.on("status", done);
  });
}

/**
 * The one conversion of a failed call: a grpc-js ServiceError keeps its code,
 * details and trailers (and becomes the cause). When the caller's request
 * source threw, that error is what failed the call, as CANCELLED unless it
 * carries a status of its own: CANCELLED is what the handler saw.
 */
function callError(err: unknown, source: { reason: unknown } | undefined): PluginFrameworkError {
  return source ? PluginFrameworkError.from(source.reason, status.CANCELLED) : PluginFrameworkError.from(err);
}

function deadlineOf(options: CallOptions): Date | number {
  let deadline = options.deadline ? options.deadline.getTime() : Number.POSITIVE_INFINITY;
  if (options.timeoutMs !== undefined) deadline = Math.min(deadline, Date.now() + options.timeoutMs);
  return deadline;
}

function cancelled(signal: AbortSignal): PluginFrameworkError {
  return new PluginFrameworkError(status.CANCELLED, "Cancelled on client", { cause: signal.reason });
}
