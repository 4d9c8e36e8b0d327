/**
 * Tells when a session has no call open, for drains and shutdowns that wait
 * for calls to finish. The owner counts its calls and calls `check()` after
 * every change; waiters resolve once the count is zero.
 */
export class IdleTracker {
  private waiters: (() => void)[] = [];

  constructor(private readonly openCalls: () => number) {}

  /** Resolves once no call is open (at once if none is). */
  idle(): Promise<void> {
    if (this.openCalls() === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The count may have changed: resolve the waiters if it reached zero. */
  check(): void {
    if (this.openCalls() > 0 || this.waiters.length === 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
