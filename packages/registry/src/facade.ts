import { type Client, type ClientWritableStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { type ChannelInterface, PluginFrameworkError } from "@operator-plugin-framework/wire";

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

/** The shape of one method of a ts-proto (`outputServices=grpc-js`) service definition. */
export interface MethodShape {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: any): Buffer;
  responseDeserialize(bytes: Buffer): any;
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

/** Builds the facade for a service on a grpc-js client whose channel routes to the plugin. */
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
        try {
          response = method.responseDeserialize(message);
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

/** One unary call, promise style. */
export function unary<Res>(
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
  return promiseCall<Res>(options, (done) => {
    const call = client.makeClientStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      options.metadata ?? new Metadata(),
      { deadline: deadlineOf(options) },
      done,
    );
    void pump(requests, call);
    return call;
  });
}

/** A grpc-js callback-style call as a promise; the signal cancels it. */
function promiseCall<Res>(
  options: CallOptions,
  start: (done: (err: ServiceError | null, value?: unknown) => void) => { cancel(): void },
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) return reject(cancelled(options.signal));
    let detach = () => {};
    const call = start((err, value) => {
      detach();
      if (err) reject(err);
      else resolve(value as Res);
    });
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
  const call = client.makeServerStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    request,
    options.metadata ?? new Metadata(),
    { deadline: deadlineOf(options) },
  );
  yield* readAll(call, options.signal);
}

async function* bidi(
  client: Client,
  method: MethodShape,
  requests: RequestStream<unknown>,
  options: CallOptions = {},
): AsyncIterable<unknown> {
  if (options.signal?.aborted) throw cancelled(options.signal);
  const call = client.makeBidiStreamRequest(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    options.metadata ?? new Metadata(),
    {
      deadline: deadlineOf(options),
    },
  );
  void pump(requests, call);
  yield* readAll(call, options.signal);
}

/** Yields every response; leaving the loop early cancels the call. */
async function* readAll(
  call: AsyncIterable<unknown> & { cancel(): void },
  signal: AbortSignal | undefined,
): AsyncIterable<unknown> {
  const detach = onAbort(signal, () => call.cancel());
  let finished = false;
  try {
    for await (const message of call) yield message;
    finished = true;
  } finally {
    detach();
    if (!finished) call.cancel();
  }
}

/** Writes every request with backpressure, then half-closes; a failing source cancels the call. */
async function pump(
  requests: RequestStream<unknown>,
  call: ClientWritableStream<unknown> & { cancel(): void },
): Promise<void> {
  try {
    for await (const request of requests) {
      if (!call.write(request)) await new Promise((resolve) => call.once("drain", resolve));
    }
    call.end();
  } catch {
    call.cancel();
  }
}

function deadlineOf(options: CallOptions): Date | number {
  let deadline = options.deadline ? options.deadline.getTime() : Number.POSITIVE_INFINITY;
  if (options.timeoutMs !== undefined) deadline = Math.min(deadline, Date.now() + options.timeoutMs);
  return deadline;
}

// One listener per signal, however many calls share it (a reconcile-wide
// signal, say): a listener per call would trip Node's max-listeners warning.
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => {};
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const set = new Set<() => void>();
    watchers = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        for (const fn of [...set]) fn();
        set.clear();
      },
      { once: true },
    );
  }
  watchers.add(cancel);
  return () => watchers.delete(cancel);
}

function cancelled(signal: AbortSignal): PluginFrameworkError {
  return new PluginFrameworkError(status.CANCELLED, "Cancelled on client", { cause: signal.reason });
}
