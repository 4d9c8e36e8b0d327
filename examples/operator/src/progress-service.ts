import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type {
  ProgressServiceServer,
  ReportProgressRequest,
  ReportProgressResponse,
} from "@operator-plugin-framework/proto/example/progress";
import { hostCallContext, type Logger } from "@operator-plugin-framework/server";

/**
 * The operator's ProgressService, a host service its DNS plugins call back
 * through their own plugin streams. Who reports comes from the session
 * (`hostCallContext`), never from the request, so a plugin cannot report in
 * another's name. Counts are per plugin name and live as long as the process.
 */
export function createProgressService(logger: Logger): ProgressServiceServer {
  const recorded = new Map<string, number>();
  return {
    reportProgress(
      call: ServerUnaryCall<ReportProgressRequest, ReportProgressResponse>,
      callback: sendUnaryData<ReportProgressResponse>,
    ) {
      const { pluginName, identity, sessionId } = hostCallContext(call);
      const count = (recorded.get(pluginName) ?? 0) + 1;
      recorded.set(pluginName, count);
      const { recordId, step, detail } = call.request;
      logger.info(
        { plugin: pluginName, user: identity?.user, sessionId, recordId, step, detail },
        "dns: provider progress",
      );
      callback(null, { recorded: count });
    },
  };
}
