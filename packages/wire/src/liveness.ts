/** Options of {@link Liveness}. */
export interface LivenessOptions {
  /** Silence after which a ping is sent. */
  intervalMs: number;
  /**
   * Silence after which the peer is dead, once a ping went unanswered. A
   * frozen peer is detected within `timeoutMs` when `intervalMs < timeoutMs`,
   * and within `intervalMs + timeoutMs` otherwise.
   */
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
 *
 * Silence is counted from the last message heard, not from the last ping:
 * a ping goes out after `intervalMs` of silence, and the peer is dead once
 * silent for `timeoutMs`, so with the defaults (10 s, 20 s) a frozen peer is
 * cut 20 s after its last message, before HTTP/2 keepalive (which needs
 * interval plus timeout) would close the connection with a vaguer reason.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private nonce = 0;
  private lastHeard = 0;
  private pingSentAt: number | undefined;
  private stopped = false;
  // Time a ping has to be answered: what is left of the timeout after the interval.
  private readonly answerMs: number;

  constructor(private readonly options: LivenessOptions) {
    const { intervalMs, timeoutMs } = options;
    this.answerMs = intervalMs < timeoutMs ? timeoutMs - intervalMs : timeoutMs;
  }

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.lastHeard = performance.now();
    this.schedule(this.options.intervalMs);
  }

  /** An acknowledgement arrived (any message counts: see {@link onActivity}). */
  onAck(_nonce: number): void {
    this.onActivity();
  }

  /**
   * Any message from the peer proves it alive. Under load an acknowledgement
   * can wait behind megabytes of frames in the transport's buffers, so only
   * silence counts as death. Called for every message: one clock read.
   */
  onActivity(): void {
    this.lastHeard = performance.now();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), Math.max(1, Math.ceil(delay)));
  }

  private tick(): void {
    const now = performance.now();
    const sentAt = this.pingSentAt;
    if (sentAt !== undefined && this.lastHeard < sentAt) {
      // A ping is unanswered. A late timer (a busy event loop) never shortens the answer time.
      const deadline = Math.max(this.lastHeard + this.options.timeoutMs, sentAt + this.answerMs);
      if (now < deadline) return this.schedule(deadline - now);
      this.stop();
      this.options.onDead(
        `no answer to ping within ${Math.round(now - sentAt)} ms (nothing heard for ${Math.round(now - this.lastHeard)} ms)`,
      );
      return;
    }
    this.pingSentAt = undefined;
    const silent = now - this.lastHeard;
    if (silent < this.options.intervalMs) return this.schedule(this.options.intervalMs - silent);
    this.nonce = (this.nonce + 1) >>> 0 || 1;
    this.pingSentAt = now;
    this.options.sendPing(this.nonce);
    this.schedule(Math.max(this.lastHeard + this.options.timeoutMs, now + this.answerMs) - now);
  }
}
