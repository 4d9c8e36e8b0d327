import {
  Metadata,
  type ServerDuplexStream,
  type ServerWritableStream,
  type status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type {
  EchoStatus,
  SimpleRequest,
  StreamingOutputCallRequest,
  StreamingOutputCallResponse,
  TestServiceServer,
} from "@operator-plugin-framework/proto/testing";

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/**
 * The gRPC interop test server's behaviour for TestService: payloads of the
 * requested size, echoed metadata, requested statuses. Serve it from a
 * grpc-js Server and from a plugin to compare a direct call with one through
 * the tunnel, as the e2e conformance suite does.
 */
export function createInteropService(): UntypedServiceImplementation {
  const service: Partial<TestServiceServer> = {
    emptyCall(_call, callback) {
      callback(null, {});
    },
    unaryCall(call, callback) {
      echoInitial(call.metadata, call);
      const trailer = echoTrailing(call.metadata);
      const request: SimpleRequest = call.request;
      const respond = () => {
        if (request.responseStatus && request.responseStatus.code !== 0) {
          return callback(statusError(request.responseStatus, trailer), null, trailer);
        }
        callback(null, { payload: { body: Buffer.alloc(request.responseSize) } }, trailer);
      };
      if (request.sleepMs) {
        const timer = setTimeout(respond, request.sleepMs);
        call.on("cancelled", () => clearTimeout(timer));
      } else respond();
    },
    streamingOutputCall(call: ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
      void writeResponses(call, call.request).then(() => {
        if (call.request.responseStatus?.code) call.emit("error", statusError(call.request.responseStatus));
        else call.end();
      });
    },
    streamingInputCall(call, callback) {
      let total = 0;
      call.on("data", (request) => {
        total += request.payload?.body.length ?? 0;
      });
      call.on("end", () => callback(null, { aggregatedPayloadSize: total }));
      call.on("error", () => {});
    },
    fullDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
      echoInitial(call.metadata, call);
      const trailer = echoTrailing(call.metadata);
      let chain = Promise.resolve();
      let failed = false;
      call.on("data", (request: StreamingOutputCallRequest) => {
        chain = chain.then(async () => {
          if (failed) return;
          if (request.responseStatus?.code) {
            failed = true;
            call.emit("error", statusError(request.responseStatus, trailer));
            return;
          }
          await writeResponses(call, request);
        });
      });
      call.on("end", () => {
        void chain.then(() => {
          if (!failed) call.end(trailer);
        });
      });
      call.on("error", () => {});
    },
  };
  return service as UntypedServiceImplementation;
}

async function writeResponses(
  call: {
    write(message: StreamingOutputCallResponse): boolean;
    cancelled: boolean;
    once(event: "drain", fn: () => void): unknown;
  },
  request: StreamingOutputCallRequest,
): Promise<void> {
  for (const parameters of request.responseParameters) {
    if (call.cancelled) return;
    if (parameters.intervalUs > 0)
      await new Promise((resolve) => setTimeout(resolve, parameters.intervalUs / 1000));
    const writable = call.write({ payload: { body: Buffer.alloc(parameters.size) } });
    if (!writable) await new Promise<void>((resolve) => call.once("drain", resolve));
  }
}

function echoInitial(metadata: Metadata, call: { sendMetadata(metadata: Metadata): void }): void {
  const values = metadata.get(ECHO_INITIAL);
  if (values.length === 0) return;
  const initial = new Metadata();
  for (const value of values) initial.add(ECHO_INITIAL, value);
  call.sendMetadata(initial);
}

function echoTrailing(metadata: Metadata): Metadata {
  const trailer = new Metadata();
  for (const value of metadata.get(ECHO_TRAILING)) trailer.add(ECHO_TRAILING, value);
  return trailer;
}

function statusError(echo: EchoStatus, metadata?: Metadata) {
  return { code: echo.code as status, details: echo.message, metadata: metadata ?? new Metadata() };
}
