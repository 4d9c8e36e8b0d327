import { once } from "node:events";
import { makeGenericClientConstructor, type ServiceError, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EchoService, FakeSession } from "./fake-session.test-support.js";
import { addSession, createPluginRegistry } from "./registry.js";

// A session that fails a call inside sendMessageWithContext, as the server's
// sessions do for a message over the send limit.
function failingClient() {
  const session = new FakeSession("s");
  session.script = {
    failOnSend: { code: status.RESOURCE_EXHAUSTED, details: "Sent message larger than max" },
  };
  const registry = createPluginRegistry();
  addSession(registry, session);
  return registry.get("fake").client(makeGenericClientConstructor(EchoService, "Echo"));
}

describe("a call that fails while it starts reports the failure on a later tick", () => {
  it("runs a unary callback after the call method returned", async () => {
    const client = failingClient();
    let returned = false;
    const outcome = await new Promise<{ err: ServiceError | null; afterReturn: boolean }>((resolve) => {
      client.unary!({ text: "x" }, (err: ServiceError | null) => resolve({ err, afterReturn: returned }));
      returned = true;
    });
    expect(outcome).toMatchObject({ afterReturn: true, err: { code: status.RESOURCE_EXHAUSTED } });
    client.close();
  });

  it("returns a server stream that reports the failure as an error event", async () => {
    const client = failingClient();
    const stream = client.serverStream!({ text: "x" });
    const [err] = (await once(stream, "error")) as [ServiceError];
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    client.close();
  });
});
