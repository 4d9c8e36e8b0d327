import { type Logger, quietLogger } from "@operator-plugin-framework/wire";

/** Options of {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /** The signals that start a graceful close. Default `["SIGTERM", "SIGINT"]`. */
  signals?: readonly NodeJS.Signals[];
  /**
   * Exit the process once closed: code 0, or 1 if closing failed. Default
   * true. With false, the process is left to end on its own. Either way a
   * second signal ends the process at once, without waiting for the drain.
   */
  exit?: boolean;
  /** Where the helper logs. Default: quiet. */
  logger?: Logger;
}

/**
 * Closes a plugin connection gracefully when the process is asked to stop,
 * as Kubernetes does with SIGTERM before it kills a pod: in-flight calls
 * finish within the connection's grace period, the operator is told the
 * plugin leaves, and the process exits. Keep the pod's
 * `terminationGracePeriodSeconds` above the connection's `drainGraceMs`.
 *
 * Returns a function that removes the handlers.
 *
 * @example
 * const connection = connectPlugin({ name: "aws", target, services });
 * closeOnSignals(connection);
 */
export function closeOnSignals(
  connection: { close(): Promise<void> },
  options: CloseOnSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const exit = options.exit ?? true;
  const logger = options.logger ?? quietLogger;
  let closing = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // A second signal means "now": whoever sent it is done waiting.
      logger.warn({ signal }, "second signal while draining; exiting at once");
      if (exit) process.exit(1);
      // Without our handlers the signal's default action ends the process.
      remove();
      process.kill(process.pid, signal);
      return;
    }
    closing = true;
    logger.info({ signal }, "closing the plugin connection");
    connection.close().then(
      () => {
        logger.info({}, "plugin connection closed");
        if (exit) process.exit(0);
      },
      (err: unknown) => {
        logger.error({ error: String(err) }, "closing the plugin connection failed");
        if (exit) process.exit(1);
      },
    );
  };

  const remove = () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}
