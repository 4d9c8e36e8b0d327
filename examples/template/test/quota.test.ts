// The plugin's service and the operator's calls, through a real plugin server
// and a real plugin connection on loopback (the testkit), with node:test.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { QuotaServiceClient, QuotaServiceService } from "../src/gen/quota/v1/quota.js";
import { reserve, usage } from "../src/quota-calls.js";
import { createQuotaService } from "../src/quota-service.js";

describe("QuotaService through the operator plugin framework", () => {
  let operator: TestServer;
  let plugin: PluginConnection;

  before(async () => {
    operator = await startTestServer();
    plugin = await startTestPlugin({
      name: "quota",
      target: operator.target,
      services: [[QuotaServiceService, createQuotaService(3)]],
    });
  });
  after(async () => {
    await plugin.close();
    await operator.close();
  });

  it("reserves units until the tenant's quota is used up", async () => {
    assert.deepEqual(await reserve(operator.registry, "quota", "a", 2), { allowed: true, remaining: 1 });
    assert.deepEqual(await reserve(operator.registry, "quota", "a", 2), { allowed: false, remaining: 1 });
    assert.deepEqual(await reserve(operator.registry, "quota", "b", 3), { allowed: true, remaining: 0 });
  });

  it("streams usage reports", async () => {
    assert.deepEqual(await usage(operator.registry, "quota", "b", 2), [3, 3]);
  });

  it("passes the plugin's gRPC status to the operator", async () => {
    await assert.rejects(reserve(operator.registry, "quota", "", 1), { code: status.INVALID_ARGUMENT });
  });

  it("says NOT_FOUND for a plugin that never registered", async () => {
    await assert.rejects(reserve(operator.registry, "billing", "a", 1), { code: status.NOT_FOUND });
  });

  it("works with the generated grpc-js client too", async () => {
    const client = operator.registry.get("quota").client(QuotaServiceClient);
    const reply = await new Promise((resolve, reject) =>
      client.check({ tenant: "c", amount: 1 }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
    assert.deepEqual(reply, { allowed: true, remaining: 2 });
  });
});
