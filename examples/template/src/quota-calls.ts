import type { PluginServer } from "@operator-plugin-framework/server";
import { type CheckResponse, QuotaServiceService } from "./gen/quota/v1/quota.js";

type Registry = PluginServer["registry"];

/**
 * What the operator's reconcile loop calls: reserves `amount` units for a
 * tenant through the plugin registered as `plugin`. Rejects with a gRPC status
 * (`code`, `details`): NOT_FOUND when no such plugin is registered,
 * DEADLINE_EXCEEDED after `timeoutMs`, or the plugin's own status.
 */
export async function reserve(
  registry: Registry,
  plugin: string,
  tenant: string,
  amount: number,
  timeoutMs = 2_000,
): Promise<CheckResponse> {
  return registry.get(plugin).call(QuotaServiceService.check, { tenant, amount }, { timeoutMs });
}

/** The tenant's usage as the plugin reports it, `updates` times (a server-streaming call). */
export async function usage(registry: Registry, plugin: string, tenant: string, updates: number) {
  const reports: number[] = [];
  const quota = registry.get(plugin).service(QuotaServiceService);
  for await (const report of quota.watchUsage({ tenant, limit: updates })) reports.push(report.used);
  return reports;
}
