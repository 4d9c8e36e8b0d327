import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type {
  GreeterServiceServer,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";

/** A greeter for tests; `events` records what handlers saw. */
export function createGreeter(servedBy: string) {
  const seen: { metadata: Record<string, unknown>; deadline: unknown; cancelled: boolean }[] = [];
  const impl: Partial<GreeterServiceServer> = {
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
      const answer = () => callback(null, { message: `hello ${name}`, servedBy });
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    },
  };
  return { impl, seen };
}
