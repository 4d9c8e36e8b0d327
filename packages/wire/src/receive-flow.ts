import { status as Status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "./errors.js";

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
  // Complete messages not yet read: a queue with a moving head, since shift()
  // is linear and one batch can complete thousands of messages.
  private readonly queue: InboundMessage[] = [];
  private head = 0;

  constructor(private readonly options: ReceiveFlowOptions) {
    this.window = options.windowSize;
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
    this.window -= size;
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (size > 0 || !more) this.parts.push(buffer);
    this.assembled += size;
    if (more) {
      if (this.pending === 0 && size > 0) {
        this.grantedEarly += size;
        this.release(size);
      }
      return undefined;
    }
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.assembled);
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
