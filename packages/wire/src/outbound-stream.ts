import type { Frame } from "@operator-plugin-framework/proto";
import type { FrameScheduler, FrameSource } from "./frame-scheduler.js";

type FrameKind = NonNullable<Frame["kind"]>;

interface QueuedMessage {
  data: Buffer;
  offset: number;
  onSent: (() => void) | undefined;
}

type Item = FrameKind | QueuedMessage;

const EMPTY = Buffer.alloc(0);

/**
 * The send side of one tunnelled stream: its frames in order, message data
 * cut into chunks no larger than the peer's maximum and never beyond the
 * window the peer granted.
 */
export class OutboundStream implements FrameSource {
  private items: Item[] = [];
  private head = 0;
  private window: number;
  private pulled = false;
  /** When the stream ran out of window with data left to send (performance.now()), if it has. */
  private stalledSince: number | undefined;

  /** `stalls` hears how long each wait for the peer's window lasted. */
  constructor(
    readonly streamId: number,
    private readonly scheduler: FrameScheduler,
    initialWindow: number,
    private readonly maxChunkSize: number,
    private readonly stalls?: { flowStalled(ms: number): void },
  ) {
    this.window = initialWindow;
  }

  /** Queues a non-data frame (new_stream, headers, half_close, status, cancel). */
  pushFrame(kind: FrameKind): void {
    this.items.push(kind);
    this.scheduler.wake(this);
  }

  /** Queues one serialized message; `onSent` runs once its last chunk is handed to the transport. */
  pushMessage(data: Buffer, onSent?: () => void): void {
    this.items.push({ data, offset: 0, onSent });
    if (this.window <= 0) this.noteStall();
    this.scheduler.wake(this);
  }

  /** The peer granted more window. */
  addWindow(increment: number): void {
    this.window += increment;
    if (this.stalledSince !== undefined && this.window > 0) this.endStall();
    if (this.sendable) this.scheduler.wake(this);
  }

  /** Drops everything not yet sent (the stream was cancelled or closed). */
  clear(): void {
    if (this.stalledSince !== undefined) this.endStall();
    this.items = [];
    this.head = 0;
  }

  /** True once any frame of this stream went to the transport: the peer knows the stream. */
  get opened(): boolean {
    return this.pulled;
  }

  get sendable(): boolean {
    const item = this.items[this.head];
    if (item === undefined) return false;
    if (!isMessage(item)) return true;
    return this.window > 0 || item.data.length === item.offset;
  }

  pull(out: Frame[], budget: number): number {
    let used = 0;
    this.pulled = true;
    while (this.head < this.items.length) {
      const item = this.items[this.head]!;
      if (!isMessage(item)) {
        out.push({ streamId: this.streamId, kind: item });
        this.advance();
        continue;
      }
      const remaining = item.data.length - item.offset;
      if (remaining === 0) {
        out.push({ streamId: this.streamId, kind: { $case: "data", value: { data: EMPTY, more: false } } });
        this.advance();
        item.onSent?.();
        continue;
      }
      const size = Math.min(remaining, this.window, this.maxChunkSize, budget - used);
      if (size <= 0) break;
      const end = item.offset + size;
      const data =
        item.offset === 0 && end === item.data.length ? item.data : item.data.subarray(item.offset, end);
      out.push({
        streamId: this.streamId,
        kind: { $case: "data", value: { data, more: end < item.data.length } },
      });
      this.window -= size;
      used += size;
      item.offset = end;
      if (end === item.data.length) {
        this.advance();
        item.onSent?.();
      }
      if (used >= budget) break;
    }
    if (this.window <= 0) this.noteStall();
    return used;
  }

  /** Starts timing a stall if data waits for window; only measured when someone listens. */
  private noteStall(): void {
    if (!this.stalls || this.stalledSince !== undefined) return;
    const item = this.items[this.head];
    if (item !== undefined && isMessage(item) && item.offset < item.data.length) {
      this.stalledSince = performance.now();
    }
  }

  private endStall(): void {
    this.stalls?.flowStalled(performance.now() - this.stalledSince!);
    this.stalledSince = undefined;
  }

  private advance(): void {
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
  }
}

function isMessage(item: Item): item is QueuedMessage {
  return (item as QueuedMessage).offset !== undefined;
}
