import { Metadata, status } from "@grpc/grpc-js";
import type { PluginError, PluginRPCResponse, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  type CallObserver,
  CallQueue,
  type ChannelCall,
  type Deadline,
  type InterceptingListener,
  type MessageContext,
  noopCallObserver,
  parseSeedErrorCode,
  protocolViolation,
  runApplicationCallback,
  type StatusObject,
  sanitizeCode,
} from "@operator-plugin-framework/wire";
import { queueFullMessage } from "./call-queue.js";
import { deadlineMs, type ServerSessionLimits, SessionBase, type SessionInit } from "./session-base.js";
import { SessionCall } from "./session-call.js";
import type { SessionTransport } from "./transport.js";

/**
 * A seed-protocol (Go prototype) plugin session. Seed plugins answer unary
 * `rpc_call` frames, and their errors carry no request id, so calls go one at
 * a time: an error then belongs to the one call outstanding. A call abandoned
 * by its caller (deadline, cancel) stays outstanding until the plugin answers
 * it or `abandonGraceMs` passes, so a late error is never pinned on the next call.
 * The calls behind it wait in the same bounded FIFO queue as on revision 1
 * (`maxQueuedCalls`), where `maxConcurrentStreams` is in effect 1.
 */
export class SeedSession extends SessionBase {
  private readonly queue: CallQueue<SeedCall>;
  private outstanding: { requestId: string; call: SeedCall | undefined; timer?: NodeJS.Timeout } | undefined;
  private nextRequestId = 1;

  constructor(
    init: SessionInit,
    transport: SessionTransport,
    limits: ServerSessionLimits,
    private readonly abandonGraceMs = 5_000,
  ) {
    super(init, transport, limits);
    this.queue = new CallQueue(limits.maxQueuedCalls);
  }

  /** The seed protocol has no acknowledgement: the first rpc_call tells the plugin it is registered. */
  accept(): void {}

  onMessage(message: PluginStreamMessage): void {
    const payload = message.payload;
    switch (payload?.$case) {
      case "rpcResponse":
        return this.onResponse(payload.value);
      case "error":
        return this.onError(payload.value);
      case "ping":
        // Never sent by seed plugins, but answered as on revision 1 rather than refused.
        if (!payload.value.ack) {
          this.transport.write({
            payload: { $case: "ping", value: { nonce: payload.value.nonce, ack: true } },
          });
        }
        return;
      case "frames":
        throw protocolViolation("frames from a plugin that registered without revision 1");
      case "drain":
        throw protocolViolation("drain from a plugin that registered without revision 1");
      case "register":
        throw protocolViolation("duplicate register on one stream");
      default:
        throw protocolViolation(`unexpected ${payload ? payload.$case : "empty message"} from a plugin`);
    }
  }

  /** Seed plugins cannot be told to drain: the session only stops taking calls, or is preferred less. */
  protected announceDrain(): void {}

  get inFlight(): number {
    return this.queue.size + (this.outstanding?.call ? 1 : 0);
  }

  createCall(method: string, deadline: Deadline): ChannelCall {
    return new SeedCall(this, method, deadlineMs(deadline));
  }

  enqueue(call: SeedCall): void {
    if (this.closedReason !== undefined) return call.fail(status.UNAVAILABLE, this.refusal()!);
    // The one slot is free only when nothing waits (the queue is FIFO): then the call goes out now.
    if (!this.outstanding && this.queue.size === 0) {
      return this.send(call);
    }
    if (!this.queue.push(call)) {
      call.fail(status.RESOURCE_EXHAUSTED, queueFullMessage(this.name, 1, this.queue.bound));
    }
  }

  /** The caller gave up on `call`: forget it if queued, keep its slot if sent. */
  abandon(call: SeedCall): void {
    this.queue.remove(call);
    const current = this.outstanding;
    if (current?.call === call) {
      current.call = undefined;
      current.timer = setTimeout(() => this.settle(current.requestId), this.abandonGraceMs);
    }
    this.checkIdle();
  }

  private onResponse(response: PluginRPCResponse): void {
    const current = this.outstanding;
    if (current?.requestId === response.requestId) {
      // Settle first: the caller's callback may start the next call, and must find the slot free.
      this.settle(response.requestId);
      current.call?.succeed(response.payload);
      return;
    }
    if (!this.issued(response.requestId)) {
      throw protocolViolation(
        `rpc_response for unknown request ${JSON.stringify(response.requestId.slice(0, 40))}`,
      );
    }
    // A late answer to a call that already ended: dropped quietly.
  }

  private onError(error: PluginError): void {
    const current = this.outstanding;
    if (!current || (error.requestId && error.requestId !== current.requestId)) return;
    // grpc_code comes from the peer: clamp it into the valid range, as tunnel statuses are.
    const code = error.grpcCode ? sanitizeCode(error.grpcCode) : parseSeedErrorCode(error.code);
    this.settle(current.requestId);
    current.call?.fail(code === status.OK ? status.UNKNOWN : code, error.message);
  }

  terminate(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const message = `plugin "${this.name}" session closed: ${reason}`;
    const sent = this.outstanding?.call;
    const queued = this.queue.clear();
    if (this.outstanding?.timer) clearTimeout(this.outstanding.timer);
    this.outstanding = undefined;
    sent?.fail(status.UNAVAILABLE, message);
    // Nothing of a queued call reached the plugin: say so, a retry elsewhere is safe.
    for (const call of queued)
      call.fail(status.UNAVAILABLE, `${message} (the call was queued and never sent)`);
    this.checkIdle();
  }

  private issued(requestId: string): boolean {
    const n = Number(requestId);
    return Number.isSafeInteger(n) && n > 0 && n < this.nextRequestId && String(n) === requestId;
  }

  private settle(requestId: string): void {
    if (this.outstanding?.requestId !== requestId) return;
    if (this.outstanding.timer) clearTimeout(this.outstanding.timer);
    this.outstanding = undefined;
    this.pump();
    this.checkIdle();
  }

  private pump(): void {
    if (this.outstanding || this.closedReason !== undefined) return;
    const call = this.queue.shift();
    if (call) this.send(call);
  }

  private send(call: SeedCall): void {
    const requestId = String(this.nextRequestId++);
    this.outstanding = { requestId, call };
    this.transport.write({
      payload: { $case: "rpcCall", value: { requestId, method: call.method, payload: call.request! } },
    });
  }
}

/** A unary call to a seed plugin: one request, one response or error. */
export class SeedCall extends SessionCall<SeedSession> implements ChannelCall {
  private listener: InterceptingListener | undefined;
  request: Buffer | undefined;
  private response: Buffer | undefined;
  private reads = 0;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private observer: CallObserver = noopCallObserver;

  constructor(
    session: SeedSession,
    readonly method: string,
    private readonly deadline: number,
  ) {
    super(session);
  }

  start(_metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.observer = this.session.observer.callStarted(this.method);
    const refusal = this.session.refusal();
    if (refusal) return void process.nextTick(() => this.fail(status.UNAVAILABLE, refusal));
    const timeout = this.deadline - Date.now();
    if (timeout <= 0)
      return void process.nextTick(() => this.fail(status.DEADLINE_EXCEEDED, "Deadline exceeded"));
    if (Number.isFinite(timeout)) {
      this.timer = setTimeout(
        () => this.cancelWithStatus(status.DEADLINE_EXCEEDED, "Deadline exceeded"),
        timeout,
      );
    }
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    context.callback?.();
    if (this.finished) return;
    if (this.request !== undefined) {
      this.cancelWithStatus(
        status.UNIMPLEMENTED,
        `plugin "${this.session.name}" speaks the seed protocol, which supports unary calls only`,
      );
      return;
    }
    if (message.length > this.session.limits.maxSendMessageSize) {
      this.cancelWithStatus(
        status.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${message.length} vs. ${this.session.limits.maxSendMessageSize})`,
      );
      return;
    }
    this.observer.messageSent(message.length);
    this.request = message;
  }

  halfClose(): void {
    if (this.finished) return;
    if (this.request === undefined) {
      this.fail(status.INTERNAL, "a unary call needs exactly one request message");
      return;
    }
    this.session.enqueue(this);
  }

  startRead(): void {
    this.reads++;
    this.deliver();
  }

  cancelWithStatus(code: status, details: string): void {
    if (this.finished) return;
    this.session.abandon(this);
    this.finish({ code, details, metadata: new Metadata() });
  }

  succeed(payload: Buffer): void {
    if (this.finished) return;
    this.response = payload;
    this.observer.messageReceived(payload.length);
    this.deliver();
  }

  fail(code: status, details: string): void {
    this.finish({ code, details, metadata: new Metadata() });
  }

  /**
   * Hands over the one response, then the status. The response is taken
   * before the listener runs, so a listener that asks for another message
   * from inside onReceiveMessage gets none, and then the status.
   */
  private deliver(): void {
    if (this.finished || this.response === undefined || this.reads === 0) return;
    const response = this.response;
    this.response = undefined;
    this.reads--;
    this.notify((listener) => listener.onReceiveMetadata(new Metadata()));
    this.notify((listener) => listener.onReceiveMessage(response));
    this.finish({ code: status.OK, details: "OK", metadata: new Metadata() });
  }

  private finish(result: StatusObject): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.observer.end(result.code);
    this.notify((listener) => listener.onReceiveStatus(result));
  }

  /** Calls the listener; an exception in the application's code surfaces as uncaught and changes nothing here. */
  private notify(event: (listener: InterceptingListener) => void): void {
    const listener = this.listener;
    if (listener) runApplicationCallback(() => event(listener));
  }
}
