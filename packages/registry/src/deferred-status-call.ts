import type { Metadata, status } from "@grpc/grpc-js";
import type {
  ChannelCall as Call,
  InterceptingListener,
  MessageContext,
  StatusObject,
} from "@operator-plugin-framework/wire";

/**
 * Wraps a session's call so that a status reported while the caller is still
 * inside `start()`, `sendMessageWithContext()` or `halfClose()` reaches the
 * caller on the next tick, as grpc-js reports it. Without this, a request
 * over the send limit ran a unary callback before the call method returned
 * and made a server-streaming call method throw (its "error" event fired
 * before anyone could listen).
 *
 * It is its own listener, so that it costs one object per call.
 */
export class DeferredStatusCall implements Call, InterceptingListener {
  private listener: InterceptingListener | undefined;
  // How many of the caller's methods are on the stack now.
  private depth = 0;

  constructor(private readonly inner: Call) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.depth++;
    try {
      this.inner.start(metadata, this);
    } finally {
      this.depth--;
    }
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    this.depth++;
    try {
      this.inner.sendMessageWithContext(context, message);
    } finally {
      this.depth--;
    }
  }

  halfClose(): void {
    this.depth++;
    try {
      this.inner.halfClose();
    } finally {
      this.depth--;
    }
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.listener?.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.listener?.onReceiveMessage(message);
  }

  onReceiveStatus(result: StatusObject): void {
    const listener = this.listener;
    if (this.depth > 0) process.nextTick(() => listener?.onReceiveStatus(result));
    else listener?.onReceiveStatus(result);
  }

  cancelWithStatus(code: status, details: string): void {
    this.inner.cancelWithStatus(code, details);
  }
  startRead(): void {
    this.inner.startRead();
  }
  getPeer(): string {
    return this.inner.getPeer();
  }
  getCallNumber(): number {
    return this.inner.getCallNumber();
  }
  setCredentials(...args: Parameters<Call["setCredentials"]>): void {
    this.inner.setCredentials(...args);
  }
  getAuthContext(): ReturnType<Call["getAuthContext"]> {
    return this.inner.getAuthContext();
  }
}
