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

  // Known bug, not fixed here (packages/client/src/connect-plugin.ts is being edited by the lead):
  // config.onDrain calls the one `wake` of the *current* attempt, so a drain frame arriving on an
  // old, already retired stream retires the healthy new session too. This test pins today's
  // behaviour so the fix shows up: when fixed, no third stream opens and this test must be inverted.
  it("KNOWN BUG: a drain frame on an old, retired stream retires the current session too", async () => {
    const ack = encode({
      payload: {
        $case: "registerAck",
        value: {
          accepted: true,
          protocolRevision: 1,
          settings: undefined,
          sessionId: "s",
          code: 0,
          message: "",
        },
      },
    });
    const drain = encode({ payload: { $case: "drain", value: { reason: "moving", graceMs: 0 } } });
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
      // The second drain was for the old stream, yet the plugin reconnects a third time.
      const third = await operator.accept();
      await third.waitFor((m) => m.payload?.$case === "register");
    } finally {
      await plugin.close();
      await operator.close();
    }
  });
});
