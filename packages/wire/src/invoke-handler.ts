import { type Metadata, type sendUnaryData, status } from "@grpc/grpc-js";
import type { ServerInterceptingCallInterface } from "./grpc-internals.js";
import { grpcServerCall } from "./grpc-server-call.js";
import { type CallObserver, noopCallObserver } from "./observer.js";
import type { MethodHandler } from "./service-table.js";

// grpc-js exports the callback type, not its error type.
type ServerStatusResponse = NonNullable<Parameters<sendUnaryData<unknown>>[0]>;
type Surface = { cancelled: boolean; emit(event: string, ...args: unknown[]): boolean; destroy?: () => void };

/**
 * Runs a handler on a call the way grpc.Server (1.14) does for each of the
 * four kinds, with grpc-js's own call objects: unary and server-streaming
 * handlers both get a ServerWritableStreamImpl, as grpc-js passes them. One
 * difference, kept on purpose: a handler that throws, or returns a promise
 * that rejects, with an error that has a numeric `code` ends the call with
 * that code and message (grpc-js turns a throw into UNKNOWN and ignores a
 * rejected promise, which hangs the caller until its deadline).
 * `onCallObject` sees the call object before the handler does (the operator
 * attaches the calling session to it there).
 */
export function invokeHandler(
  call: ServerInterceptingCallInterface,
  handler: MethodHandler,
  observer: Pick<CallObserver, "run"> = noopCallObserver,
  onCallObject?: (callObject: object) => void,
): void {
  const { ServerDuplexStreamImpl, ServerReadableStreamImpl, ServerWritableStreamImpl, serverErrorToStatus } =
    grpcServerCall();
  let surface: Surface | undefined;
  let metadata: Metadata;
  let request: unknown;
  let hasRequest = false;
  const respond = (err: ServerStatusResponse | null, value?: unknown, trailer?: Metadata) => {
    if (err) return call.sendStatus(serverErrorToStatus(err, trailer));
    call.sendMessage(value, () =>
      call.sendStatus({ code: status.OK, details: "OK", metadata: trailer ?? null }),
    );
  };
  const run = (...args: [call: unknown, callback?: unknown]) => {
    try {
      // A tracing observer runs the handler inside the call's span; the
      // listeners of a stream the handler reads are bound to it too (binding
      // costs more than the span itself, so only where data arrives by event).
      const result = observer.run
        ? observer.run(() => handler.func(...args), single ? undefined : (args[0] as object))
        : handler.func(...args);
      if (result && typeof (result as Promise<unknown>).then === "function") {
        (result as Promise<unknown>).then(undefined, (err) => call.sendStatus(thrownToStatus(err)));
      }
    } catch (err) {
      call.sendStatus(thrownToStatus(err));
    }
  };
  const single = handler.kind === "unary" || handler.kind === "serverStream";
  call.start({
    onReceiveMetadata(received) {
      metadata = received;
      if (single) return call.startRead();
      const stream =
        handler.kind === "clientStream"
          ? new ServerReadableStreamImpl(handler.path, call, metadata)
          : new ServerDuplexStreamImpl(handler.path, call, metadata);
      surface = stream as unknown as Surface;
      onCallObject?.(stream);
      if (handler.kind === "clientStream") run(stream, respond);
      else run(stream);
    },
    onReceiveMessage(message) {
      if (!single) return void (surface as unknown as { push(m: unknown): void }).push(message);
      if (hasRequest) {
        return call.sendStatus({
          code: status.UNIMPLEMENTED,
          details: `Received a second request message for server streaming method ${handler.path}`,
        });
      }
      hasRequest = true;
      request = message;
      call.startRead();
    },
    onReceiveHalfClose() {
      if (!single) return void (surface as unknown as { push(m: null): void }).push(null);
      if (!hasRequest) {
        return call.sendStatus({
          code: status.UNIMPLEMENTED,
          details: `Received no request message for server streaming method ${handler.path}`,
        });
      }
      const writable = new ServerWritableStreamImpl(handler.path, call, metadata, request);
      surface = writable as unknown as Surface;
      onCallObject?.(writable);
      if (handler.kind === "unary") run(writable, respond);
      else run(writable);
    },
    onCancel() {
      if (!surface) return;
      surface.cancelled = true;
      surface.emit("cancelled", "cancelled");
      if (handler.kind === "clientStream" || handler.kind === "bidi") surface.destroy?.();
    },
  });
}

/** What a thrown error or rejected promise ends the call with (see {@link invokeHandler}). */
function thrownToStatus(err: unknown) {
  if (err && typeof err === "object" && typeof (err as { code?: unknown }).code === "number") {
    return grpcServerCall().serverErrorToStatus(err as ServerStatusResponse);
  }
  return { code: status.UNKNOWN, details: err instanceof Error ? err.message : "Unknown error" };
}
