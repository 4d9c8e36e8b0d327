import { connectPlugin, type PluginConnection, quietLogger } from "@operator-plugin-framework/client";
import { DnsProviderServiceService, RecordType } from "@operator-plugin-framework/proto/example/dns";
import { ProgressServiceService } from "@operator-plugin-framework/proto/example/progress";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import type { Logger } from "@operator-plugin-framework/wire";
import { createProgressService } from "@operator-plugin-framework-examples/operator/progress-service";
import { createDnsProvider } from "@operator-plugin-framework-examples/plugin/dns-provider";
import { createInMemoryZone } from "@operator-plugin-framework-examples/plugin/dns-zone";
import {
  createProgressReporter,
  type ReportProgress,
} from "@operator-plugin-framework-examples/plugin/progress";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A logger that hands every info line to `onInfo`. */
function capture(onInfo: (fields: Record<string, unknown>, message: string) => void): Logger {
  return {
    ...quietLogger,
    info: (fields: Record<string, unknown>, message: string) => onInfo(fields, message),
  } as Logger;
}

/**
 * The DNS example's host service: the plugin reports each change through
 * its own session, and the operator learns from the session, not the
 * request, which plugin reported.
 */
describe("the DNS example reports progress to the operator through a host service", () => {
  let operator: TestServer;
  let plugin: PluginConnection;
  const reports: Record<string, unknown>[] = [];
  let reported: () => void = () => {};

  beforeAll(async () => {
    const logger = capture((fields, message) => {
      if (message !== "dns: provider progress") return;
      reports.push(fields);
      reported();
    });
    operator = await startTestServer({
      hostServices: [[ProgressServiceService, createProgressService(logger)]],
    });
    let report: ReportProgress = () => {};
    plugin = connectPlugin({
      name: "aws",
      target: operator.target,
      services: [
        [
          DnsProviderServiceService,
          createDnsProvider(createInMemoryZone("aws"), quietLogger, (r) => report(r)),
        ],
      ],
      logger: quietLogger,
    });
    report = createProgressReporter(plugin, quietLogger);
    await plugin.registered();
  });

  afterAll(async () => {
    await plugin.close();
    await operator.close();
  });

  it("logs the plugin's create and delete on the operator, naming the plugin from its session", async () => {
    const dns = operator.registry.get("aws").service(DnsProviderServiceService);
    const twoReports = new Promise<void>((resolve) => {
      reported = () => reports.length >= 2 && resolve();
    });
    const { record } = await dns.createRecord(
      { name: "www.example.com", type: RecordType.RECORD_TYPE_A, value: "192.0.2.1", owner: "uid-1" },
      { timeoutMs: 5_000 },
    );
    await dns.deleteRecord({ id: record!.id }, { timeoutMs: 5_000 });
    await twoReports;
    expect(reports).toEqual([
      expect.objectContaining({
        plugin: "aws",
        recordId: record!.id,
        step: "created",
        detail: "www.example.com",
      }),
      expect.objectContaining({ plugin: "aws", recordId: record!.id, step: "deleted" }),
    ]);
  });
});
