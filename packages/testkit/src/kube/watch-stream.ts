import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-status.js";
import type { WatchListener } from "./watch-history.js";

/** An open watch response, so fault injection can end it. */
export interface ActiveWatch {
  resource: string;
  end(): void;
  destroy(): void;
}

/**
 * Serves a watch the way the API server does: a 200 response that streams
 * one JSON event per line until the client leaves, `timeoutSeconds` passes
 * or the watch is dropped. A too-old resourceVersion is answered in-stream
 * with an `ERROR` event carrying a 410 Expired Status, then the end.
 */
export function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  options: {
    resource: string;
    subscribe: (listener: WatchListener) => () => void;
    timeoutSeconds: number | undefined;
    active: Set<ActiveWatch>;
  },
): void {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache" });
  res.flushHeaders();
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  const watch: ActiveWatch = {
    resource: options.resource,
    end: () => {
      cleanup();
      res.end();
    },
    destroy: () => {
      cleanup();
      res.destroy();
    },
  };
  function cleanup(): void {
    unsubscribe();
    clearTimeout(timer);
    options.active.delete(watch);
  }
  const send = (line: object) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(line)}\n`);
  };
  try {
    unsubscribe = options.subscribe(send);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    send({
      type: "ERROR",
      object: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: err.message,
        reason: err.reason,
        code: err.httpStatus,
      },
    });
    res.end();
    return;
  }
  options.active.add(watch);
  res.once("close", cleanup);
  req.once("close", cleanup);
  if (options.timeoutSeconds !== undefined) timer = setTimeout(watch.end, options.timeoutSeconds * 1000);
}
