import type { Frame, ServiceDescriptor } from "@operator-plugin-framework/proto";
import {
  type CallCarrier,
  type FrameScheduler,
  MAX_STREAM_ID,
  type NegotiatedSettings,
  type OutgoingCall,
  protocolViolation,
} from "@operator-plugin-framework/wire";

type FrameKind = NonNullable<Frame["kind"]>;

/**
 * The streams the plugin opens on one revision-2 session, to call the
 * operator's host services: even ids, growing, at most the operator's
 * `max_concurrent_streams` at once. The counterpart of the operator's
 * per-session stream table for its own calls; the connection's
 * {@link HostRouter} decides which session a call goes to.
 */
export class HostStreams implements CallCarrier {
  private readonly streams = new Map<number, OutgoingCall>();
  private nextStreamId = 2;
  private closed = false;
  /** The services the operator offers on this session, by full name. */
  private readonly serviceNames: ReadonlySet<string>;
  /** Called when a stream ends, so that a waiting call can have its slot. */
  onSlotFree: () => void = () => {};
  /** Called whenever the last open stream ends. */
  onIdle: () => void = () => {};

  constructor(
    readonly scheduler: FrameScheduler,
    readonly settings: NegotiatedSettings,
    readonly maxReceiveMessageSize: number,
    services: readonly ServiceDescriptor[],
  ) {
    this.serviceNames = new Set(services.map((service) => service.name));
  }

  /** Host calls open on this session now. */
  get inFlight(): number {
    return this.streams.size;
  }

  /** True while a call could get a stream here at once. */
  get hasFreeSlot(): boolean {
    return (
      !this.closed &&
      this.streams.size < this.settings.peer.maxConcurrentStreams &&
      this.nextStreamId < MAX_STREAM_ID
    );
  }

  /** True when the operator announced the service of `method` ("/pkg.Service/Method"). */
  offers(method: string): boolean {
    return this.serviceNames.has(method.slice(1, method.lastIndexOf("/")));
  }

  /** Gives `call` the next even stream id; the caller checked {@link hasFreeSlot}. */
  openStream(call: OutgoingCall): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    this.streams.set(id, call);
    call.open(this, id);
  }

  closeStream(id: number): void {
    if (!this.streams.delete(id)) return;
    if (this.streams.size === 0) this.onIdle();
    this.onSlotFree();
  }

  /**
   * A frame from the operator on an even id. Throws a protocol violation that
   * ends the session for a frame no race can explain: a `new_stream` on an
   * id that belongs to the plugin, or a frame for an id never opened.
   */
  onFrame(streamId: number, kind: FrameKind): void {
    if (kind.$case === "newStream") {
      throw protocolViolation(
        `the operator opened stream ${streamId}, an even id; at revision 2 even ids belong to the plugin`,
      );
    }
    const call = this.streams.get(streamId);
    if (call) call.onFrame(kind);
    else if (streamId >= this.nextStreamId) {
      throw protocolViolation(`${kind.$case} frame for unknown stream ${streamId}`);
    }
    // Otherwise the call already ended (cancelled, timed out): a late frame, dropped quietly.
  }

  /** The session ended: every open host call fails with UNAVAILABLE and `reason`. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const calls = [...this.streams.values()];
    this.streams.clear();
    for (const call of calls) call.end(code, reason);
    if (calls.length > 0) this.onIdle();
  }
}
