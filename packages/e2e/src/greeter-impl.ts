import { Metadata, type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type {
  GreeterServiceServer,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";

/** A greeter for tests; `events` records what handlers saw. */
export function createGreeter(servedBy: string) {
  const seen: { metadata: Record<string, unknown>; deadline: unknown; cancelled: boolean }[] = [];
  const stats = { cancelledStreams: 0 };
  const impl: GreeterServiceServer = {
    sayHello(
      call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
      callback: sendUnaryData<SayHelloResponse>,
    ) {
      const record = { metadata: call.metadata.getMap(), deadline: call.getDeadline(), cancelled: false };
      seen.push(record);
      call.on("cancelled", () => {
        record.cancelled = true;
      });
      const { name, delayMs } = call.request;
      if (name === "fail") return callback({ code: status.NOT_FOUND, details: "no such greeting" });
      if (name === "throw") throw new Error("handler exploded");
      if (name === "throw-status")
        throw Object.assign(new Error("gone"), {
          code: status.FAILED_PRECONDITION,
          details: "resource is gone",
        });
      if (name === "details") {
        const trailer = new Metadata();
        trailer.set("grpc-status-details-bin", Buffer.from([8, 5, 18, 3, 0x66, 0x6f, 0x6f]));
        trailer.set("x-trailer", "t");
        return callback({ code: status.NOT_FOUND, details: "with details", metadata: trailer });
      }
      const answer = () => callback(null, { message: `hello ${name}`, servedBy });
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    },
    countGreetings(call) {
      const { name, count } = call.request;
      call.on("cancelled", () => {
        stats.cancelledStreams++;
      });
      let i = 0;
      // Honours backpressure, as a real streaming handler should.
      const pump = () => {
        while (i < count && !call.cancelled) {
          const writable = call.write({ message: `hello ${name} #${i++}`, servedBy });
          if (!writable) return void call.once("drain", pump);
        }
        if (!call.cancelled) call.end();
      };
      pump();
    },
    collectNames(call, callback) {
      const names: string[] = [];
      call.on("data", (req: SayHelloRequest) => names.push(req.name));
      call.on("end", () => callback(null, { message: `hello ${names.join(", ")}`, servedBy }));
    },
    chat(call) {
      call.on("data", (req: SayHelloRequest) => call.write({ message: `hello ${req.name}`, servedBy }));
      call.on("end", () => call.end());
    },
  };
  return { impl, seen, stats };
}
