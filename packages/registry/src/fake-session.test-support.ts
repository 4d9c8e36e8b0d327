import { Metadata, status } from "@grpc/grpc-js";
import type {
  ChannelCall,
  ChannelInterface,
  InterceptingListener,
  MessageContext,
  StatusObject,
} from "@operator-plugin-framework/wire";
import type { AnnouncedService, PluginSession } from "./session.js";

/** What a fake call answers once the client half-closes. */
export interface Script {
  messages?: unknown[];
  status?: { code: status; details?: string; trailers?: Record<string, string> };
  /** Never answer: the call ends only when cancelled. */
  hang?: boolean;
  /** Fail inside sendMessageWithContext, as a session does for a message over its send limit. */
  failOnSend?: { code: status; details: string };
  /** Never acknowledge a request (no room to send more), and fail after this many arrived. */
  stallThenFail?: { after: number; code: status; details: string };
}

/** A JSON-encoded method, enough for a grpc-js Client and the facade. */
export function jsonMethod<Q extends boolean, R extends boolean>(
  name: string,
  requestStream: Q,
  responseStream: R,
) {
  const serialize = (value: unknown) => Buffer.from(JSON.stringify(value));
  const deserialize = (bytes: Buffer) => JSON.parse(bytes.toString()) as { text: string };
  return {
    path: `/test.Echo/${name}`,
    requestStream,
    responseStream,
    originalName: name,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

/** The four kinds of call, as a ts-proto style service definition. */
export const EchoService = {
  unary: jsonMethod("Unary", false, false),
  serverStream: jsonMethod("ServerStream", false, true),
  clientStream: jsonMethod("ClientStream", true, false),
  bidi: jsonMethod("Bidi", true, true),
};

/**
 * A call that follows grpc-js's Call contract: messages only on startRead,
 * exactly one status, after the last message read.
 */
export class FakeCall implements ChannelCall {
  readonly received: unknown[] = [];
  halfClosed = false;
  private listener: InterceptingListener | undefined;
  private readonly queue: Buffer[] = [];
  private reads = 0;
  private pending: StatusObject | undefined;
  private finished = false;

  constructor(
    readonly method: string,
    private readonly session: FakeSession,
    private readonly script: Script,
  ) {}

  start(_metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.session.open.add(this);
  }
  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    this.received.push(JSON.parse(message.toString()));
    const stall = this.script.stallThenFail;
    if (stall) {
      if (this.received.length === stall.after) this.cancelWithStatus(stall.code, stall.details);
      return;
    }
    context.callback?.();
    const failure = this.script.failOnSend;
    if (failure) this.cancelWithStatus(failure.code, failure.details);
  }
  halfClose(): void {
    this.halfClosed = true;
    if (this.script.hang || this.finished) return;
    process.nextTick(() => {
      this.listener?.onReceiveMetadata(new Metadata());
      for (const message of this.script.messages ?? []) this.queue.push(Buffer.from(JSON.stringify(message)));
      const { code, details, trailers } = this.script.status ?? { code: status.OK };
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(trailers ?? {})) metadata.set(key, value);
      this.pending = { code, details: details ?? "", metadata };
      this.deliver();
    });
  }
  startRead(): void {
    this.reads++;
    this.deliver();
  }
  cancelWithStatus(code: status, details: string): void {
    this.finish({ code, details, metadata: new Metadata() });
  }
  getPeer(): string {
    return "fake";
  }
  getCallNumber(): number {
    return 0;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }

  private deliver(): void {
    while (!this.finished && this.reads > 0 && this.queue.length > 0) {
      this.reads--;
      this.listener?.onReceiveMessage(this.queue.shift()!);
    }
    if (this.pending && this.queue.length === 0) this.finish(this.pending);
  }

  private finish(result: StatusObject): void {
    if (this.finished) return;
    this.finished = true;
    this.session.open.delete(this);
    this.listener?.onReceiveStatus(result);
  }
}

/** What a fake session announced at registration. */
export interface FakeRegister {
  /** Default "1.0.0". */
  version?: string;
  /** Default none. */
  labels?: Record<string, string>;
  /** Full names of the services announced (no methods). Default none. */
  services?: string[];
}

/** A session whose calls answer with `script`; its state fields are writable. */
export class FakeSession implements PluginSession {
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly services: readonly AnnouncedService[];
  readonly protocolRevision = 1;
  readonly identity = undefined;
  readonly connectedAt = new Date(0);
  readonly peer = "fake";
  accepting = true;
  retiring = false;
  /** Calls started on this session and not finished. */
  readonly open = new Set<FakeCall>();
  /** Every call made on this session, in order. */
  readonly calls: FakeCall[] = [];
  script: Script = { messages: [{ text: "ok" }] };
  private busy = 0;

  constructor(
    readonly id: string,
    readonly name = "fake",
    register: FakeRegister = {},
  ) {
    this.version = register.version ?? "1.0.0";
    this.labels = register.labels ?? {};
    this.services = (register.services ?? []).map((service) => ({ name: service, methods: [] }));
  }

  get inFlight(): number {
    return this.open.size + this.busy;
  }
  /** Pretends `count` more calls are in flight, for the balancers. */
  setBusy(count: number): this {
    this.busy = count;
    return this;
  }

  // The registry only ever calls createCall on a session channel.
  readonly channel = {
    createCall: (method: string) => {
      const call = new FakeCall(method, this, this.script);
      this.calls.push(call);
      return call;
    },
  } as Pick<ChannelInterface, "createCall"> as ChannelInterface;
}
