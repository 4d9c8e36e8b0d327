import type { Metadata, status } from "@grpc/grpc-js";
import type { ChannelCall, InterceptingListener, MessageContext } from "@operator-plugin-framework/wire";
import type { SessionBase } from "./session-base.js";

let nextCallNumber = 1;

/** What every call through a session shares: its number and its peer. */
export abstract class SessionCall<S extends SessionBase> implements ChannelCall {
  private readonly callNumber = nextCallNumber++;

  constructor(protected readonly session: S) {}

  abstract start(metadata: Metadata, listener: InterceptingListener): void;
  abstract sendMessageWithContext(context: MessageContext, message: Buffer): void;
  abstract halfClose(): void;
  abstract startRead(): void;
  abstract cancelWithStatus(code: status, details: string): void;

  getPeer(): string {
    return this.session.peerLabel;
  }
  getCallNumber(): number {
    return this.callNumber;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }
}
