import { status } from "@grpc/grpc-js";
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { openRawStream, register } from "../fixtures/raw-stream.js";
import { createGreeter } from "../greeter-impl.js";
import { encode } from "./arbitraries.js";
import { startByteOperator } from "./byte-operator.js";

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

  // Found by the client fuzzer: a drain frame arriving on an old, already retired stream used to
  // retire the healthy new session too, since every attempt shared one wake-up.
  it("a drain frame on an old, retired stream leaves the current session alone", async () => {
    const ack = encode({
      payload: {
        $case: "registerAck",
        value: {
          accepted: true,
          hostServices: [],
          protocolRevision: 1,
          settings: undefined,
          sessionId: "s",
          code: 0,
          message: "",
        },
      },
    });
    const drain = encode({
      payload: { $case: "drain", value: { reason: "moving", graceMs: 0, ack: false } },
    });
    const operator = await startByteOperator();
    const plugin = connectPlugin({
      name: "drained",
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("p").impl]],
      backoff: { initialMs: 1, maxMs: 5 },
      drainGraceMs: 50,
    });
    try {
      const old = await operator.accept();
      await old.waitFor((m) => m.payload?.$case === "register");
      old.write(ack);
      await plugin.registered();
      old.write(drain);
      const current = await operator.accept();
      await current.waitFor((m) => m.payload?.$case === "register");
      current.write(ack);
      old.write(drain);
      // The second drain is for the old stream; the plugin must not open a third one.
      // This checks for an absence, so it gives the plugin a bounded time to misbehave.
      const third = await Promise.race([
        operator.accept().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500)),
      ]);
      expect(third).toBe(false);
    } finally {
      await plugin.close();
      await operator.close();
    }
  });
});
