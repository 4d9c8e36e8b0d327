import { Metadata, type status } from "@grpc/grpc-js";
import type {
  ChannelCall as Call,
  InterceptingListener,
  MessageContext,
} from "@operator-plugin-framework/wire";

let nextCallNumber = 1;

/**
 * A call that ends with a fixed status as soon as it starts, the way grpc-js
 * fails a call it cannot route. Used when a plugin has no live session.
 */
export class FailedCall implements Call {
  private readonly callNumber = nextCallNumber++;
  private done = false;
  private listener: InterceptingListener | undefined;

  constructor(
    private readonly code: status,
    private readonly details: string,
  ) {}

  start(_metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    process.nextTick(() => this.finish(this.code, this.details));
  }

  private finish(code: status, details: string): void {
    if (this.done || !this.listener) return;
    this.done = true;
    this.listener.onReceiveStatus({ code, details, metadata: new Metadata() });
  }

  sendMessageWithContext(context: MessageContext, _message: Buffer): void {
    context.callback?.();
  }
  cancelWithStatus(code: status, details: string): void {
    this.finish(code, details);
  }
  startRead(): void {}
  halfClose(): void {}
  getPeer(): string {
    return "unknown";
  }
  getCallNumber(): number {
    return this.callNumber;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }
}
