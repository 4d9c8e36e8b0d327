import type { ServerUnaryCall, ServerWritableStream, sendUnaryData } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type {
  CountGreetingsRequest,
  GreeterServiceServer,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import type {
  SimpleRequest,
  SimpleResponse,
  StreamingOutputCallRequest,
  StreamingOutputCallResponse,
  TestServiceServer,
} from "@operator-plugin-framework/proto/testing";

// Shared, preallocated payloads: the handlers must cost the same in every
// variant, so nothing is allocated per call beyond what grpc-js does.
const zeros = Buffer.alloc(4 * 1024 * 1024);
const GREETING = "x".repeat(60);

function unimplemented(_call: unknown, callback: sendUnaryData<never>): void {
  callback({ code: status.UNIMPLEMENTED, details: "not used by the benchmark" });
}

/** TestService.UnaryCall answers `response_size` bytes; the rest is unused. */
export const testService: TestServiceServer = {
  unaryCall(call: ServerUnaryCall<SimpleRequest, SimpleResponse>, callback: sendUnaryData<SimpleResponse>) {
    callback(null, { payload: { body: zeros.subarray(0, call.request.responseSize) } });
  },
  emptyCall: unimplemented,
  unimplementedCall: unimplemented,
  // The mixed-load scenario's bulk transfer: one message per response parameter, honouring backpressure.
  streamingOutputCall(call: ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const sizes = call.request.responseParameters.map((p) => p.size);
    let next = 0;
    let done = false;
    call.on("cancelled", () => {
      done = true;
    });
    const pump = () => {
      while (!done && next < sizes.length) {
        if (!call.write({ payload: { body: zeros.subarray(0, sizes[next++]) } })) {
          call.once("drain", pump);
          return;
        }
      }
      if (!done) {
        done = true;
        call.end();
      }
    };
    pump();
  },
  streamingInputCall: unimplemented,
  fullDuplexCall(call) {
    call.emit("error", { code: status.UNIMPLEMENTED, details: "not used by the benchmark" });
  },
};

/** Greeter.CountGreetings streams `count` messages of about 64 bytes, honouring backpressure. */
export const greeterService: GreeterServiceServer = {
  sayHello(_call, callback) {
    callback(null, { message: GREETING, servedBy: "" });
  },
  countGreetings(call: ServerWritableStream<CountGreetingsRequest, SayHelloResponse>) {
    const total = call.request.count;
    const message: SayHelloResponse = { message: GREETING, servedBy: "" };
    let sent = 0;
    let done = false;
    const finish = () => {
      done = true;
    };
    call.on("cancelled", finish);
    const pump = () => {
      while (!done && sent < total) {
        sent++;
        if (!call.write(message)) {
          call.once("drain", pump);
          return;
        }
      }
      if (!done) {
        done = true;
        call.end();
      }
    };
    pump();
  },
  collectNames: unimplemented,
  chat(call) {
    call.emit("error", { code: status.UNIMPLEMENTED, details: "not used by the benchmark" });
  },
};
