import { Metadata, status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import { PluginFrameworkError, protocolViolation } from "./errors.js";
import type { FrameScheduler } from "./frame-scheduler.js";
import type { ChannelCall, InterceptingListener, MessageContext, StatusObject } from "./grpc-internals.js";
import { entriesToMetadata, metadataToEntries } from "./metadata.js";
import { type CallObserver, noopCallObserver } from "./observer.js";
import { OutboundStream } from "./outbound-stream.js";
import { ReceiveFlow } from "./receive-flow.js";
import type { NegotiatedSettings } from "./session-types.js";
import { sanitizeCode } from "./status-codes.js";

type FrameKind = NonNullable<Frame["kind"]>;

let nextCallNumber = 1;

/** The session a call's stream lives on, once the call has one. */
export interface CallCarrier {
  readonly scheduler: FrameScheduler;
  readonly settings: NegotiatedSettings;
  /** Largest message the peer may send on this stream. */
  readonly maxReceiveMessageSize: number;
  /** The call on stream `id` ended: its slot is free. */
  closeStream(id: number): void;
}

/** Where a call asks for a stream, and what applies before it has one. */
export interface StreamBroker {
  /** Largest message a call may send. */
  readonly maxSendMessageSize: number;
  /** What `getPeer()` answers. */
  readonly peerLabel: string;
  /** Where a queued call waits, for its deadline message: "on the plugin session". Default: nothing. */
  readonly queueLabel?: string;
  /**
   * Gives `call` a stream through `call.open()`, now or once one is free, or
   * returns the status that refuses it (a full queue, no such service).
   */
  requestStream(call: OutgoingCall): { code: status; details: string } | undefined;
  /** A call that waited for a stream gave up (deadline, cancel). */
  withdraw(call: OutgoingCall): void;
}

/**
 * One call through a tunnel, seen from its caller: the Call a grpc-js client
 * drives through a Channel. It keeps grpc-js's contract: exactly one
 * onReceiveStatus, after every message the client read, reported on a later
 * tick when it happens inside one of the client's own calls, and never a
 * hang, since the deadline, a cancel and the session's end all finish it.
 *
 * The roles it plays are the caller's frames of docs/protocol.md: it sends
 * new_stream, data, half_close, cancel and window_update, and reads headers,
 * data, status and window_update. The plugin uses it for host-service calls;
 * the operator's `TunnelSession` (server) uses it for its calls to the
 * plugin, as their broker and carrier.
 */
export class OutgoingCall implements ChannelCall {
  private readonly callNumber = nextCallNumber++;
  private listener: InterceptingListener | undefined;
  private carrier: CallCarrier | undefined;
  private streamId = 0;
  private out: OutboundStream | undefined;
  private flow: ReceiveFlow | undefined;
  private readsWanted = 0;
  private gotHeaders = false;
  private pendingStatus: StatusObject | undefined;
  private finished = false;
  private delivering = false;
  // How many of the caller's own methods are on the stack: a status then waits a tick.
  private depth = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Held until the call has a stream. */
  private metadata: Metadata | undefined;
  /** What the caller wrote while the call waited for a stream; sent, in order, once it has one. */
  private backlog: { messages: [Buffer, (() => void) | undefined][]; halfClosed: boolean } | undefined;

  constructor(
    private readonly broker: StreamBroker,
    readonly method: string,
    /** Absolute deadline in ms since the epoch; Infinity for none. */
    readonly deadline: number,
    /** Watches the call (metrics, tracing): its trace context goes out with new_stream. */
    private readonly observer: CallObserver = noopCallObserver,
  ) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.depth++;
    try {
      const timeout = this.deadline - Date.now();
      if (timeout <= 0) return this.finish(status.DEADLINE_EXCEEDED, "Deadline exceeded");
      this.metadata = metadata;
      // Armed before asking for a stream: a queued call times out where it waits.
      if (Number.isFinite(timeout)) {
        this.deadlineTimer = setTimeout(
          () =>
            this.cancelWithStatus(
              status.DEADLINE_EXCEEDED,
              this.out
                ? "Deadline exceeded"
                : `Deadline exceeded while waiting for a free stream${this.broker.queueLabel ? ` ${this.broker.queueLabel}` : ""}`,
            ),
          timeout,
        );
      }
      const refused = this.broker.requestStream(this);
      if (refused) this.finish(refused.code, refused.details);
    } finally {
      this.depth--;
    }
  }

  /** The broker gave this call stream `id` on `carrier`: announce it, then send what waited. */
  open(carrier: CallCarrier, id: number): void {
    if (this.finished) return carrier.closeStream(id);
    this.carrier = carrier;
    this.streamId = id;
    const { peer, local } = carrier.settings;
    const stalls = this.observer === noopCallObserver ? undefined : this.observer;
    this.out = new OutboundStream(id, carrier.scheduler, peer.initialWindowSize, peer.maxChunkSize, stalls);
    this.flow = new ReceiveFlow({
      windowSize: local.initialWindowSize,
      maxChunkSize: local.maxChunkSize,
      maxMessageSize: carrier.maxReceiveMessageSize,
      // A bound method rather than a new closure per call: the operator's hot path.
      grant: this.grant.bind(this),
    });
    const timeout = this.deadline - Date.now();
    const metadata = metadataToEntries(this.metadata ?? new Metadata());
    this.observer.outgoing?.(metadata);
    this.out.pushFrame({
      $case: "newStream",
      value: {
        method: this.method,
        metadata,
        timeoutMs: Number.isFinite(timeout) ? Math.max(1, Math.ceil(timeout)) : undefined,
      },
    });
    this.metadata = undefined;
    const backlog = this.backlog;
    this.backlog = undefined;
    for (const [message, callback] of backlog?.messages ?? []) this.out.pushMessage(message, callback);
    if (backlog?.halfClosed) this.out.pushFrame({ $case: "halfClose", value: {} });
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (this.finished) return context.callback?.();
    const limit = this.broker.maxSendMessageSize;
    if (message.length > limit) {
      context.callback?.();
      this.depth++;
      try {
        this.cancelWithStatus(
          status.RESOURCE_EXHAUSTED,
          `Sent message larger than max (${message.length} vs. ${limit})`,
        );
      } finally {
        this.depth--;
      }
      return;
    }
    this.observer.messageSent(message.length);
    if (this.out) return this.out.pushMessage(message, context.callback);
    // Waiting for a stream: the write callback waits too, which is the caller's backpressure.
    this.backlog ??= { messages: [], halfClosed: false };
    this.backlog.messages.push([message, context.callback]);
  }

  halfClose(): void {
    if (this.finished) return;
    if (this.out) return this.out.pushFrame({ $case: "halfClose", value: {} });
    this.backlog ??= { messages: [], halfClosed: false };
    this.backlog.halfClosed = true;
  }

  startRead(): void {
    this.readsWanted++;
    this.deliver();
  }

  cancelWithStatus(code: status, details: string): void {
    if (this.finished) return;
    if (this.out) {
      const opened = this.out.opened;
      this.out.clear();
      // A stream the peer never heard of needs no cancel.
      if (opened) this.out.pushFrame({ $case: "cancel", value: { code, message: details } });
    }
    this.finish(code, details);
  }

  /** A frame from the handler for this call. Protocol violations end only this call. */
  onFrame(kind: FrameKind): void {
    if (this.finished) return;
    try {
      switch (kind.$case) {
        case "headers":
          if (this.gotHeaders || this.pendingStatus)
            throw protocolViolation("headers frame after headers or status");
          this.gotHeaders = true;
          this.notify("onReceiveMetadata", entriesToMetadata(kind.value.metadata));
          return;
        case "data": {
          if (this.pendingStatus) throw protocolViolation("data frame after status");
          if (this.flow!.accept(kind.value.data, kind.value.more)) this.deliver();
          return;
        }
        case "windowUpdate":
          this.out!.addWindow(kind.value.increment);
          return;
        case "status": {
          if (this.pendingStatus) throw protocolViolation("second status frame");
          const { code, message, details, trailers } = kind.value;
          const metadata = entriesToMetadata(trailers);
          if (details.length > 0) metadata.set("grpc-status-details-bin", Buffer.from(details));
          this.pendingStatus = { code: sanitizeCode(code), details: message, metadata };
          // The handler is done: whatever we still had to send is moot, as on HTTP/2.
          this.out!.clear();
          this.deliver();
          return;
        }
        default:
          throw protocolViolation(`unexpected ${kind.$case} frame from the call's handler`);
      }
    } catch (err) {
      const error = PluginFrameworkError.from(err, status.INTERNAL);
      this.cancelWithStatus(error.code, error.details);
    }
  }

  /**
   * Ends the call with `code` and sends nothing more: its session ended, or
   * the broker gives up on a call that never got a stream.
   */
  end(code: status, details: string): void {
    this.finish(code, details);
  }

  getPeer(): string {
    return this.broker.peerLabel;
  }
  getCallNumber(): number {
    return this.callNumber;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }

  /**
   * Hands the listener as many messages as it asked for, then the status.
   * A listener that asks for the next message from inside onReceiveMessage
   * (grpc-js streams do) gets it from this loop, not from a nested one.
   */
  private deliver(): void {
    const flow = this.flow;
    if (!flow || this.finished || this.delivering) return;
    this.delivering = true;
    try {
      // Once the handler's status is in, nothing more comes and no window is
      // needed: the caller gets every message left, read for or not. A unary
      // caller, which reads once, then sees the extra one and fails with "Too
      // many responses received" instead of waiting forever for the status.
      while (flow.pending > 0 && (this.readsWanted > 0 || this.pendingStatus)) {
        if (!this.gotHeaders) {
          // Headers are optional on the wire: data implies empty headers.
          this.gotHeaders = true;
          this.notify("onReceiveMetadata", new Metadata());
        }
        this.readsWanted = Math.max(0, this.readsWanted - 1);
        const message = flow.read();
        this.observer.messageReceived(message?.length ?? 0);
        this.notify("onReceiveMessage", message);
        if (this.finished) return;
      }
    } finally {
      this.delivering = false;
    }
    const pending = this.pendingStatus;
    if (pending && flow.pending === 0) this.finish(pending.code, pending.details, pending.metadata);
  }

  /** Grants the handler `increment` more bytes of this call's receive window. */
  private grant(increment: number): void {
    this.carrier?.scheduler.sendControl({
      streamId: this.streamId,
      kind: { $case: "windowUpdate", value: { increment } },
    });
  }

  /**
   * Calls the listener; an exception in the application's code surfaces as
   * uncaught on the next tick (as `runApplicationCallback` does) and
   * changes nothing here. An event name rather than a closure: this runs
   * three times per call.
   */
  private notify<E extends keyof InterceptingListener>(
    event: E,
    value: Parameters<InterceptingListener[E]>[0],
  ): void {
    const listener = this.listener;
    if (!listener) return;
    try {
      (listener[event] as (value: Parameters<InterceptingListener[E]>[0]) => void).call(listener, value);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private finish(code: status, details: string, metadata = new Metadata()): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadlineTimer);
    this.observer.end(code);
    if (this.carrier) this.carrier.closeStream(this.streamId);
    else this.broker.withdraw(this);
    // A queued call's writes never went out: release the caller's write callbacks.
    const backlog = this.backlog;
    this.backlog = undefined;
    this.metadata = undefined;
    for (const [, callback] of backlog?.messages ?? []) callback?.();
    const result: StatusObject = { code, details, metadata };
    if (this.depth > 0) process.nextTick(() => this.notify("onReceiveStatus", result));
    else this.notify("onReceiveStatus", result);
  }
}
