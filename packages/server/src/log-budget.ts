import type { Logger } from "@operator-plugin-framework/wire";

/**
 * Bounds how many lines of one kind reach the log: a hostile client opening
 * thousands of refused streams must not turn the operator's stderr into the
 * next bottleneck. Up to `perWindow` lines per `windowMs`; past that, lines
 * are counted, and the first line of the next window says how many were
 * dropped.
 */
export class LogBudget {
  private windowStart = 0;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(logger: Logger, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.used++;
    const dropped = this.suppressed;
    this.suppressed = 0;
    logger.warn(dropped ? { ...fields, suppressedBefore: dropped } : fields, message);
  }
}
