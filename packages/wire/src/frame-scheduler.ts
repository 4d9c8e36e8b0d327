import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";

/**
 * One stream's outbound side, as the scheduler sees it. `pull` appends the
 * frames the stream may send now, using at most `budget` bytes of message
 * data, and returns the data bytes it used.
 */
export interface FrameSource {
  pull(out: Frame[], budget: number): number;
  /** True while the source has frames it can send now (not blocked on window). */
  readonly sendable: boolean;
}

export interface FrameSchedulerOptions {
  /**
   * Writes one message; returns false when the transport wants us to wait
   * for `resume()`. With `maxUnwrittenBytes`, it must call `onWritten` once
   * the transport has written the message out (a Node stream's write callback).
   */
  write: (message: PluginStreamMessage, onWritten?: () => void) => boolean;
  /**
   * Data bytes the scheduler hands to the transport before their writes
   * complete; past it, it waits for `onWritten`. This keeps the transport's
   * own buffer, where frames can no longer be reordered, short: a small
   * call's frames then wait behind at most this much of a bulk transfer,
   * instead of behind the 16 messages a Node object stream buffers before
   * it pushes back. Default: unbounded (for a `write` without callbacks).
   */
  maxUnwrittenBytes?: number;
  /** Message bytes per batch before it is written. Default 256 KiB. */
  maxBatchBytes?: number;
  /** Data bytes one stream may add to a batch in one turn. Default 64 KiB. */
  quantum?: number;
  /**
   * Messages outside frame batches (ping answers, pings, drains) that may be
   * written behind a transport that does not drain: a peer that stops reading
   * but keeps sending pings. Frames need no such bound: window updates and
   * cancels are bounded by the streams and their windows. Default
   * {@link DEFAULT_MAX_QUEUED_CONTROL}.
   */
  maxQueuedControl?: number;
  /**
   * Called once when more than `maxQueuedControl` wait; the scheduler has
   * closed. The session should end with RESOURCE_EXHAUSTED, as HTTP/2 servers
   * do for a ping flood.
   */
  onControlOverflow?: (message: string) => void;
}

/**
 * What the sessions pass as `maxUnwrittenBytes`: one full batch in the
 * transport while the next is built. A small call behind a bulk transfer
 * waits about this many bytes' worth of the transfer's rate; 512 KiB
 * measured no faster for 1 MiB calls and about 1.4x slower for small calls
 * during a transfer.
 */
export const SESSION_MAX_UNWRITTEN_BYTES = 256 * 1024;

/** Default bound of queued control messages per session: nghttp2's for its outbound control queue. */
export const DEFAULT_MAX_QUEUED_CONTROL = 1000;

/**
 * Writes every frame of a session from one place, in order per stream, and
 * fairly across streams: control frames first, then data in round-robin turns
 * of at most `quantum` bytes, so one large or slow call cannot stall the
 * others. Frames queued in the same turn of the event loop share one gRPC
 * message, which is what makes many small concurrent calls cheap.
 */
export class FrameScheduler {
  private readonly write: FrameSchedulerOptions["write"];
  private readonly maxUnwrittenBytes: number;
  // Data bytes of batches handed to the transport whose write has not completed.
  private unwritten = 0;
  private readonly maxBatchBytes: number;
  private readonly quantum: number;
  private readonly maxQueuedControl: number;
  private readonly onControlOverflow: ((message: string) => void) | undefined;
  // Messages written since the transport pushed back: the transport buffers them.
  private writtenWhileBlocked = 0;
  private control: Frame[] = [];
  private readonly ready = new Set<FrameSource>();
  private scheduled = false;
  private blocked = false;
  private closed = false;
  private flushing = false;
  private emptyWaiters: (() => void)[] = [];
  private readonly flushBound = () => this.flush();

  constructor(options: FrameSchedulerOptions) {
    this.write = options.write;
    this.maxUnwrittenBytes = options.maxUnwrittenBytes ?? Number.POSITIVE_INFINITY;
    this.maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    this.quantum = options.quantum ?? 64 * 1024;
    this.maxQueuedControl = options.maxQueuedControl ?? DEFAULT_MAX_QUEUED_CONTROL;
    this.onControlOverflow = options.onControlOverflow;
  }

  /** Queues a frame that belongs to no stream's data order (window updates). */
  sendControl(frame: Frame): void {
    if (this.closed) return;
    this.control.push(frame);
    this.schedule();
  }

  /** Marks a source as having frames to send. */
  wake(source: FrameSource): void {
    if (this.closed) return;
    this.ready.add(source);
    this.schedule();
  }

  /** Writes a non-frame message after everything queued before it. */
  sendMessage(message: PluginStreamMessage): void {
    if (this.closed) return;
    this.flush();
    if (this.blocked) {
      // Written all the same (pings, acks and drains must not wait behind
      // data), but counted: a peer that never reads must not grow it forever.
      this.writtenWhileBlocked++;
      if (!this.checkControlBound()) return;
    }
    this.blocked = !this.write(message) || this.blocked;
  }

  /** The transport drained its buffer: continue writing. */
  resume(): void {
    this.blocked = false;
    this.writtenWhileBlocked = 0;
    this.schedule();
  }

  /** Drops everything queued; later calls are no-ops. */
  close(): void {
    this.closed = true;
    this.control = [];
    this.ready.clear();
    this.notifyEmpty();
  }

  /** Resolves once every queued frame was handed to the transport (or the scheduler closed). */
  empty(): Promise<void> {
    this.flush();
    if (this.closed || (this.control.length === 0 && this.ready.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Closes the scheduler and reports once when too much waits behind a blocked transport. */
  private checkControlBound(): boolean {
    const queued = this.writtenWhileBlocked;
    if (queued <= this.maxQueuedControl) return true;
    this.close();
    this.onControlOverflow?.(
      `the peer does not read its stream, and ${queued} control messages (ping answers, pings) ` +
        `wait for it, over the limit of ${this.maxQueuedControl}; read the stream, or send fewer pings`,
    );
    return false;
  }

  private notifyEmpty(): void {
    for (const resolve of this.emptyWaiters.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.scheduled || this.blocked) return;
    this.scheduled = true;
    setImmediate(this.flushBound);
  }

  /**
   * Writes batches until nothing is sendable or the transport pushes back.
   * Re-entrant calls (a write callback that queues the call's status, say)
   * return at once: the running flush picks up what they queued, in order.
   */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      this.flushBatches();
    } finally {
      this.flushing = false;
    }
  }

  private flushBatches(): void {
    this.scheduled = false;
    while (!this.blocked && !this.closed) {
      // Over the bound: only control frames go out, data waits for written batches.
      const room = this.maxUnwrittenBytes - this.unwritten;
      const frames = this.control;
      this.control = [];
      let bytes = 0;
      const limit = Math.min(this.maxBatchBytes, room);
      while (bytes < limit && this.ready.size > 0) {
        for (const source of this.ready) {
          this.ready.delete(source);
          bytes += source.pull(frames, Math.min(this.quantum, limit - bytes));
          // To the back of the line: the next batch starts with the streams
          // that waited. (A Set visits what is added during the loop, so a
          // source that still has budget left gets its next turn at once.)
          if (source.sendable) this.ready.add(source);
          if (bytes >= limit) break;
        }
      }
      if (frames.length === 0) {
        if (this.ready.size === 0) this.notifyEmpty();
        return;
      }
      const message: PluginStreamMessage = { payload: { $case: "frames", value: { frames } } };
      let written = true;
      if (bytes > 0 && Number.isFinite(this.maxUnwrittenBytes)) {
        this.unwritten += bytes;
        written = this.write(message, () => this.onWritten(bytes));
      } else written = this.write(message);
      if (!written) this.blocked = true;
    }
  }

  private onWritten(bytes: number): void {
    const wasFull = this.unwritten >= this.maxUnwrittenBytes;
    this.unwritten -= bytes;
    if (wasFull && this.ready.size > 0) this.schedule();
  }
}
