import { status } from "@grpc/grpc-js";
import type { HostServiceCaller, Logger } from "@operator-plugin-framework/client";
import {
  ProgressServiceService,
  type ReportProgressRequest,
} from "@operator-plugin-framework/proto/example/progress";

/** Tells the operator how far a change got; see {@link createProgressReporter}. */
export type ReportProgress = (report: ReportProgressRequest) => void;

/**
 * Reports each change to the operator's ProgressService, a host service the
 * operator offers through the plugin's own stream: no second connection,
 * and the operator knows which plugin reports from the session itself.
 * Best effort: a failed report is logged and never fails the DNS call. An
 * operator without the service (an older one answers UNIMPLEMENTED) is
 * mentioned once, not on every change.
 */
export function createProgressReporter(connection: HostServiceCaller, logger: Logger): ReportProgress {
  let toldUnimplemented = false;
  return (report) => {
    connection
      .callHost(ProgressServiceService.reportProgress, report, { timeoutMs: 5_000 })
      .catch((err: { code?: number; message?: string }) => {
        if (err.code === status.UNIMPLEMENTED) {
          if (!toldUnimplemented) logger.info({ reason: err.message }, "operator takes no progress reports");
          toldUnimplemented = true;
          return;
        }
        logger.warn({ recordId: report.recordId, error: err.message }, "progress report failed");
      });
  };
}
