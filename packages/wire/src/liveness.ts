/** Options of {@link Liveness}. */
export interface LivenessOptions {
  /** Time between pings. */
  intervalMs: number;
  /** A ping not answered within this is a dead peer. */
  timeoutMs: number;
  /** Sends a ping with this nonce. */
  sendPing: (nonce: number) => void;
  /** The peer did not answer in time. Called once. */
  onDead: (message: string) => void;
}

/**
 * Application-level liveness over a plugin stream: one ping in flight at a
 * time, one timer per session. It catches what a TCP connection cannot, such
 * as a frozen process (SIGSTOP) behind a proxy that still holds the socket.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private nonce = 0;
  private outstanding: number | undefined;
  private stopped = false;

  constructor(private readonly options: LivenessOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.schedule(this.options.intervalMs);
  }

  /** An acknowledgement arrived. */
  onAck(nonce: number): void {
    if (nonce !== this.outstanding || this.stopped) return;
    this.outstanding = undefined;
    this.schedule(this.options.intervalMs);
  }

  /**
   * Any message from the peer proves it alive. Under load an acknowledgement
   * can wait behind megabytes of frames in the transport's buffers, so only
   * silence for a whole timeout counts as death.
   */
  onActivity(): void {
    this.outstanding = undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    if (this.outstanding !== undefined) {
      this.stop();
      this.options.onDead(`peer did not answer a ping within ${this.options.timeoutMs} ms`);
      return;
    }
    this.nonce = (this.nonce + 1) >>> 0 || 1;
    this.outstanding = this.nonce;
    this.options.sendPing(this.nonce);
    this.schedule(this.options.timeoutMs);
  }
}
