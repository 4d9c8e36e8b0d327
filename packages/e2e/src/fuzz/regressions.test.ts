import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { openRawStream, register } from "../fixtures/raw-stream.js";

/** Failing cases the fuzzers found, kept as fixed sequences. */
describe("fuzz regressions", () => {
  it("a seed plugin's error with an out-of-range grpc_code fails the call with UNKNOWN, not that number", async () => {
    await using server = await startTestServer();
    const raw = openRawStream(server.target);
    try {
      raw.send(register("seed-code"));
      const handle = await server.registry.waitFor("seed-code", { timeoutMs: 5_000 });
      const call = handle.call(
        GreeterServiceService.sayHello,
        { name: "x", delayMs: 0 },
        { timeoutMs: 5_000 },
      );
      const sent = await raw.next();
      expect(sent.payload?.$case).toBe("rpcCall");
      raw.send({
        payload: {
          $case: "error",
          value: { message: "bad code", code: "", requestId: "1", grpcCode: 65536 },
        },
      });
      await expect(call).rejects.toMatchObject({ code: status.UNKNOWN, details: "bad code" });
    } finally {
      raw.close();
    }
  });
});
