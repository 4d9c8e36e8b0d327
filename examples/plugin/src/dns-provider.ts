import { status } from "@grpc/grpc-js";
import type { Logger } from "@operator-plugin-framework/client";
import {
  type DnsProviderServiceServer,
  RecordType,
  ZoneChange,
} from "@operator-plugin-framework/proto/example/dns";
import type { InMemoryZone, RecordFields } from "./dns-zone.js";
import type { ReportProgress } from "./progress.js";

/**
 * The plugin's DnsProviderService over an in-memory zone: the implementation
 * object you would pass to `grpc.Server.addService`. Every write is logged
 * (names and ids, which are not secrets) so the demo can show who called what,
 * and reported to the operator through `progress` (a host-service call).
 */
export function createDnsProvider(
  zone: InMemoryZone,
  logger: Logger,
  progress: ReportProgress = () => {},
): DnsProviderServiceServer {
  return {
    createRecord(call, callback) {
      const invalid = checkFields(call.request);
      if (invalid) return callback({ code: status.INVALID_ARGUMENT, details: invalid });
      const { record, created } = zone.create(call.request);
      logger.info(
        { method: "CreateRecord", id: record.id, name: record.name, created },
        "dns: record created",
      );
      callback(null, { record, created });
      progress({ recordId: record.id, step: created ? "created" : "exists", detail: record.name });
    },
    updateRecord(call, callback) {
      const { id, ...fields } = call.request;
      const invalid = checkFields(fields);
      if (invalid) return callback({ code: status.INVALID_ARGUMENT, details: invalid });
      const record = zone.update(id, fields);
      if (!record) {
        return callback({
          code: status.NOT_FOUND,
          details: `record "${id}" does not exist; create it again`,
        });
      }
      logger.info({ method: "UpdateRecord", id, name: record.name }, "dns: record updated");
      callback(null, { record });
      progress({ recordId: id, step: "updated", detail: record.name });
    },
    deleteRecord(call, callback) {
      const deleted = zone.delete(call.request.id);
      logger.info({ method: "DeleteRecord", id: call.request.id, deleted }, "dns: record deleted");
      callback(null, { deleted });
      if (deleted) progress({ recordId: call.request.id, step: "deleted", detail: "" });
    },
    watchZone(call) {
      // Subscribe before the snapshot, so no change falls between the two.
      const stop = zone.watch((event) => call.write(event));
      for (const record of zone.records()) call.write({ change: ZoneChange.ZONE_CHANGE_SNAPSHOT, record });
      call.on("cancelled", stop);
      call.on("close", stop);
    },
  };
}

/** Why the fields are unusable, or undefined when they are fine. */
function checkFields({ name, type, value }: RecordFields): string | undefined {
  if (!name) return "name is required";
  if (type === RecordType.RECORD_TYPE_UNSPECIFIED || RecordType[type] === undefined)
    return "type must be A, AAAA, CNAME or TXT";
  if (!value) return "value is required";
  return undefined;
}
