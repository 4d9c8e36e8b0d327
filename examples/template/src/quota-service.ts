import { status } from "@grpc/grpc-js";
import type { QuotaServiceServer } from "./gen/quota/v1/quota.js";

/**
 * The plugin's QuotaService: the same implementation object you would pass to
 * grpc-js's `Server.addService`. Every tenant may reserve `limit` units; usage
 * lives in memory, so it starts over when the plugin restarts.
 */
export function createQuotaService(limit: number): QuotaServiceServer {
  const used = new Map<string, number>();
  return {
    check(call, callback) {
      const { tenant, amount } = call.request;
      if (!tenant) {
        callback({ code: status.INVALID_ARGUMENT, details: "tenant is required" });
        return;
      }
      const before = used.get(tenant) ?? 0;
      const allowed = before + amount <= limit;
      const after = allowed ? before + amount : before;
      used.set(tenant, after);
      callback(null, { allowed, remaining: limit - after });
    },
    watchUsage(call) {
      const { tenant, limit: updates } = call.request;
      // A real plugin would follow its backend; this one reports the current usage `updates` times.
      for (let i = 0; i < updates; i++) call.write({ tenant, used: used.get(tenant) ?? 0 });
      call.end();
    },
  };
}
