import { Metadata, status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import {
  type CallObserver,
  type ChannelCall,
  entriesToMetadata,
  type InterceptingListener,
  type MessageContext,
  metadataToEntries,
  noopCallObserver,
  OutboundStream,
  PluginFrameworkError,
  protocolViolation,
  ReceiveFlow,
  type StatusObject,
  sanitizeCode,
} from "@operator-plugin-framework/wire";
import { SessionCall } from "./session-call.js";
import type { TunnelSession } from "./tunnel-session.js";

type FrameKind = NonNullable<Frame["kind"]>;

/**
 * One call through a plugin's stream, seen from the operator: the Call a
 * grpc-js client drives. It keeps grpc-js's contract: exactly one
 * onReceiveStatus, after every message the client read, and never a hang,
 * since the deadline, a cancel and the session's end all finish it.
 */
export class TunnelCall extends SessionCall<TunnelSession> implements ChannelCall {
  private listener: InterceptingListener | undefined;
  private streamId = 0;
  private out: OutboundStream | undefined;
  private flow: ReceiveFlow | undefined;
  private readsWanted = 0;
  private gotHeaders = false;
  private pendingStatus: StatusObject | undefined;
  private finished = false;
  private delivering = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Held until the call has a stream. */
  private metadata: Metadata | undefined;
  /** What the caller wrote while the call waited for a stream; sent, in order, once it has one. */
  private backlog: { messages: [Buffer, (() => void) | undefined][]; halfClosed: boolean } | undefined;
  private observer: CallObserver = noopCallObserver;

  constructor(
    session: TunnelSession,
    private readonly method: string,
    private readonly deadline: number,
  ) {
    super(session);
  }

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.observer = this.session.observer.callStarted(this.method);
    const refusal = this.session.refusal();
    if (refusal) return this.finishLater(status.UNAVAILABLE, refusal);
    const timeout = this.deadline - Date.now();
    if (timeout <= 0) return this.finishLater(status.DEADLINE_EXCEEDED, "Deadline exceeded");
    this.metadata = metadata;
    // Armed before asking for a stream: a queued call times out where it waits.
    if (Number.isFinite(timeout)) {
      this.deadlineTimer = setTimeout(
        () =>
          this.cancelWithStatus(
            status.DEADLINE_EXCEEDED,
            this.out
              ? "Deadline exceeded"
              : "Deadline exceeded while waiting for a free stream on the plugin session",
          ),
        timeout,
      );
    }
    const full = this.session.requestStream(this);
    if (full !== undefined) {
      clearTimeout(this.deadlineTimer);
      this.finishLater(status.RESOURCE_EXHAUSTED, full);
    }
  }

  /**
   * The session gave this call stream `id`, at once or after it waited in the
   * queue: announce it, then send what the caller wrote meanwhile.
   */
  open(id: number): void {
    this.streamId = id;
    const { peer, local } = this.session.settings;
    const stalls = this.observer === noopCallObserver ? undefined : this.observer;
    this.out = new OutboundStream(
      id,
      this.session.scheduler,
      peer.initialWindowSize,
      peer.maxChunkSize,
      stalls,
    );
    this.flow = new ReceiveFlow({
      windowSize: local.initialWindowSize,
      maxChunkSize: local.maxChunkSize,
      maxMessageSize: this.session.limits.maxReceiveMessageSize,
      // A bound method rather than a new closure per call.
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
    if (this.finished) {
      context.callback?.();
      return;
    }
    const limit = this.session.limits.maxSendMessageSize;
    if (message.length > limit) {
      context.callback?.();
      this.cancelWithStatus(
        status.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${message.length} vs. ${limit})`,
      );
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
      // A stream the plugin never heard of needs no cancel.
      if (opened) this.out.pushFrame({ $case: "cancel", value: { code, message: details } });
    }
    this.finish({ code, details, metadata: new Metadata() });
  }

  /** A frame from the plugin for this call. Protocol violations end only this call. */
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
          const message = this.flow!.accept(kind.value.data, kind.value.more);
          if (message) {
            this.observer.messageReceived(message.data.length);
            this.deliver();
          }
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
          throw protocolViolation(`unexpected ${kind.$case} frame from the plugin`);
      }
    } catch (err) {
      const error = PluginFrameworkError.from(err, status.INTERNAL);
      this.cancelWithStatus(error.code, error.details);
    }
  }

  /** The session ended: fail the call unless it already ended. */
  onSessionClosed(reason: string): void {
    if (this.finished) return;
    this.finish({ code: status.UNAVAILABLE, details: reason, metadata: new Metadata() });
  }

  /** Grants the plugin `increment` more bytes of this call's receive window. */
  private grant(increment: number): void {
    this.session.scheduler.sendControl({
      streamId: this.streamId,
      kind: { $case: "windowUpdate", value: { increment } },
    });
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
      // Once the plugin's status is in, nothing more comes and no window is
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
        this.notify("onReceiveMessage", message);
        if (this.finished) return;
      }
    } finally {
      this.delivering = false;
    }
    if (this.pendingStatus && flow.pending === 0) this.finish(this.pendingStatus);
  }

  /**
   * Calls the listener; an exception in the application's code surfaces as
   * uncaught and changes nothing here. An event name rather than a closure:
   * this runs three times per call.
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
      // As runApplicationCallback does: uncaught, on the next tick.
      process.nextTick(() => {
        throw err;
      });
    }
  }

  private finishLater(code: status, details: string): void {
    process.nextTick(() => this.finish({ code, details, metadata: new Metadata() }));
  }

  private finish(result: StatusObject): void {
    if (this.finished) return;
    this.finished = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.streamId) this.session.closeStream(this.streamId);
    else this.session.withdraw(this);
    // A queued call's writes never went out: release the caller's write callbacks.
    const backlog = this.backlog;
    this.backlog = undefined;
    this.metadata = undefined;
    for (const [, callback] of backlog?.messages ?? []) callback?.();
    this.observer.end(result.code);
    this.notify("onReceiveStatus", result);
  }
}
