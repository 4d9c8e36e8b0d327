import { status } from "@grpc/grpc-js";
import type { GreeterServiceServer } from "@operator-plugin-framework/proto/example";

/**
 * The plugin's GreeterService: the same implementation object you would pass
 * to `grpc.Server.addService`. `servedBy` names this instance so the operator
 * can see which replica answered.
 */
export function createGreeter(servedBy: string): GreeterServiceServer {
  return {
    sayHello(call, callback) {
      const { name, delayMs } = call.request;
      if (!name) {
        callback({ code: status.INVALID_ARGUMENT, details: "name is required" });
        return;
      }
      const answer = () => callback(null, { message: `hello ${name}`, servedBy });
      if (!delayMs) return answer();
      // Honour cancellation so a caller's deadline frees the handler at once.
      const timer = setTimeout(answer, delayMs);
      call.on("cancelled", () => clearTimeout(timer));
    },
    countGreetings(call) {
      const { name, count } = call.request;
      for (let i = 1; i <= count; i++) call.write({ message: `hello ${name} #${i}`, servedBy });
      call.end();
    },
    collectNames(call, callback) {
      const names: string[] = [];
      call.on("data", (request: { name: string }) => names.push(request.name));
      call.on("end", () => callback(null, { message: `hello ${names.join(", ")}`, servedBy }));
    },
    chat(call) {
      call.on("data", (request: { name: string }) =>
        call.write({ message: `hello ${request.name}`, servedBy }),
      );
      call.on("end", () => call.end());
    },
  };
}
