import { status as Status } from "@grpc/grpc-js";
import { PluginFrameworkError, protocolViolation } from "./errors.js";

/**
 * What each unread message costs besides its bytes: the objects that hold it.
 * Without it an empty message would cost nothing, and a peer could queue
 * millions of them within any window (the lesson of CVE-2019-9518).
 */
export const QUEUED_MESSAGE_OVERHEAD = 256;

/**
 * A chunk smaller than this fraction of the buffer it was decoded from is
 * copied out, so that a tiny message does not keep its whole batch alive.
 * Bigger chunks stay zero-copy views: they retain at most 8 times their size.
 */
const COPY_BELOW_FRACTION = 8;

const EMPTY = Buffer.alloc(0);

export interface ReceiveFlowOptions {
  /** Bytes the peer may send before we grant more (our advertised window). */
  windowSize: number;
  /** Largest chunk the peer may send in one Data frame. */
  maxChunkSize: number;
  /** Largest whole message we accept. */
  maxMessageSize: number;
  /** Sends a window update granting `increment` bytes to the peer. */
  grant: (increment: number) => void;
}

/** A complete inbound message and the window bytes still owed for it. */
export interface InboundMessage {
  data: Buffer;
  owed: number;
}

/**
 * The receive side of one tunnelled stream: reassembles chunks into messages
 * and keeps the peer within its window. Memory stays bounded by the window
 * plus one message in assembly: bytes of a message still being assembled are
 * granted back at once only while no complete message waits to be read;
 * otherwise they are granted when the application reads.
 */
export class ReceiveFlow {
  private window: number;
  private parts: Buffer[] = [];
  private assembled = 0;
  private grantedEarly = 0;
  private pendingGrant = 0;
  // Bytes plus QUEUED_MESSAGE_OVERHEAD per message, of the messages not yet read.
  private queuedCost = 0;
  private readonly maxQueuedCost: number;
  // Complete messages not yet read: a queue with a moving head, since shift()
  // is linear and one batch can complete thousands of messages.
  private readonly queue: InboundMessage[] = [];
  private head = 0;

  constructor(private readonly options: ReceiveFlowOptions) {
    this.window = options.windowSize;
    // A conforming peer's unread bytes stay within the window plus one message
    // granted early; the overhead term leaves room for many small messages.
    this.maxQueuedCost = options.windowSize + options.maxMessageSize;
  }

  /** Accepts one Data frame. Returns the completed message, if any. Throws on a protocol violation. */
  accept(chunk: Uint8Array, more: boolean): InboundMessage | undefined {
    const size = chunk.length;
    if (size > this.options.maxChunkSize) {
      throw new PluginFrameworkError(
        Status.INVALID_ARGUMENT,
        `data chunk of ${size} bytes exceeds the negotiated maximum of ${this.options.maxChunkSize}`,
      );
    }
    if (size > this.window) {
      throw new PluginFrameworkError(
        Status.INVALID_ARGUMENT,
        `flow-control window exceeded: ${size} bytes sent with ${this.window} granted`,
      );
    }
    if (this.assembled + size > this.options.maxMessageSize) {
      throw new PluginFrameworkError(
        Status.RESOURCE_EXHAUSTED,
        `Received message larger than max (${this.assembled + size} vs. ${this.options.maxMessageSize})`,
      );
    }
    if (size === 0 && more) {
      // Carries nothing and ends nothing: a conforming sender never writes one.
      throw protocolViolation("empty data frame that does not end a message");
    }
    this.window -= size;
    this.parts.push(retainable(chunk));
    this.assembled += size;
    if (more) {
      if (this.pending === 0 && size > 0) {
        this.grantedEarly += size;
        this.release(size);
      }
      return undefined;
    }
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.assembled);
    const cost = this.assembled + QUEUED_MESSAGE_OVERHEAD;
    if (this.queuedCost + cost > this.maxQueuedCost) {
      throw new PluginFrameworkError(
        Status.RESOURCE_EXHAUSTED,
        `the peer sent ${this.pending + 1} messages the application has not read, over the bound of ` +
          `${this.maxQueuedCost} bytes (each message counts its size plus ${QUEUED_MESSAGE_OVERHEAD}); ` +
          "read messages as they come, or send fewer, larger ones",
      );
    }
    this.queuedCost += cost;
    const message = { data, owed: this.assembled - this.grantedEarly };
    this.parts = [];
    this.assembled = 0;
    this.grantedEarly = 0;
    this.queue.push(message);
    return message;
  }

  /** Takes the next complete message and grants its bytes back to the peer. */
  read(): Buffer | undefined {
    const message = this.queue[this.head];
    if (!message) return undefined;
    this.queue[this.head++] = undefined as unknown as InboundMessage;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.queuedCost -= message.data.length + QUEUED_MESSAGE_OVERHEAD;
    let bytes = message.owed;
    if (this.pending === 0 && this.assembled > this.grantedEarly) {
      // The peer may be blocked mid-message: grant what it already sent of it.
      bytes += this.assembled - this.grantedEarly;
      this.grantedEarly = this.assembled;
    }
    this.release(bytes);
    return message.data;
  }

  /** Complete messages waiting to be read. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** True while a message is partly received. */
  get assembling(): boolean {
    return this.parts.length > 0;
  }

  private release(bytes: number): void {
    if (bytes <= 0) return;
    this.pendingGrant += bytes;
    // Grant in batches of a quarter window: fewer frames, and never a stall,
    // since a peer that is blocked has given us the whole window to release.
    if (this.pendingGrant >= this.options.windowSize / 4) {
      this.window += this.pendingGrant;
      this.options.grant(this.pendingGrant);
      this.pendingGrant = 0;
    }
  }
}

/** The chunk as a Buffer that does not keep alive much more than its own bytes. */
function retainable(chunk: Uint8Array): Buffer {
  const size = chunk.byteLength;
  if (size === 0) return EMPTY;
  if (size * COPY_BELOW_FRACTION < chunk.buffer.byteLength) return Buffer.from(chunk);
  return Buffer.from(chunk.buffer, chunk.byteOffset, size);
}
