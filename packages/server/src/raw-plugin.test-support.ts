import { credentials, Metadata, type ServiceError, type status } from "@grpc/grpc-js";
import {
  type Frame,
  PluginFrameworkServiceClient,
  type PluginStreamMessage,
  type RegisterAck,
  type Settings,
} from "@operator-plugin-framework/proto";

type FrameKind = NonNullable<Frame["kind"]>;
type NewStream = Extract<FrameKind, { $case: "newStream" }>["value"];

/**
 * The `register` message of a plugin named `name` that announces no services:
 * what the tests that speak the stream protocol by hand send first.
 */
export function registerMessage(
  name: string,
  protocolRevision = 1,
  settings?: Partial<Settings>,
): PluginStreamMessage {
  return {
    payload: {
      $case: "register",
      value: {
        name,
        version: "v1",
        protocolRevision,
        services: [],
        settings: settings ? { ...ZERO_SETTINGS, ...settings } : undefined,
        labels: {},
        fileDescriptorSet: Buffer.alloc(0),
      },
    },
  };
}

/**
 * A plugin driven by hand over a real gRPC stream: it registers at a chosen
 * revision and sends raw frames, so tests see exactly what the operator
 * answers. Frames from the operator are kept by stream id.
 */
export class RawPlugin {
  /** Every frame the operator sent, in order. */
  readonly frames: Frame[] = [];
  /** How the operator ended the stream. */
  readonly ended: Promise<{ code: status; details: string }>;
  private readonly client: PluginFrameworkServiceClient;
  private readonly stream: ReturnType<PluginFrameworkServiceClient["pluginStream"]>;
  /** Every message the operator sent, in order. */
  readonly messages: PluginStreamMessage[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(address: string, headers: Record<string, string> = {}) {
    this.client = new PluginFrameworkServiceClient(address, credentials.createInsecure());
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    this.stream = this.client.pluginStream(metadata);
    this.stream.on("data", (message: PluginStreamMessage) => {
      this.messages.push(message);
      if (message.payload?.$case === "frames") this.frames.push(...message.payload.value.frames);
      for (const waiter of [...this.waiters]) waiter();
    });
    this.ended = new Promise((resolve) => {
      this.stream.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details }));
      this.stream.on("status", (s) => resolve({ code: s.code, details: s.details }));
    });
    void this.ended.then(() => this.client.close());
  }

  /** Registers and resolves with the operator's ack. */
  async register(revision: number, settings?: Partial<Settings>): Promise<RegisterAck> {
    this.stream.write(registerMessage("p", revision, settings));
    const ack = await this.until(
      () => this.messages.find((m) => m.payload?.$case === "registerAck")?.payload,
    );
    return (ack as Extract<typeof ack, { $case: "registerAck" }>).value;
  }

  send(...frames: Frame[]): void {
    this.stream.write({ payload: { $case: "frames", value: { frames } } });
  }

  /** Opens a host-service call: new_stream, the messages, then half_close unless `open`. */
  call(
    streamId: number,
    method: string,
    messages: Buffer[],
    options: Partial<NewStream> & { open?: boolean } = {},
  ): void {
    const { open, ...rest } = options;
    this.send(
      { streamId, kind: { $case: "newStream", value: { method, metadata: [], ...rest } } },
      ...messages.map((data): Frame => ({ streamId, kind: { $case: "data", value: { data, more: false } } })),
      ...(open ? [] : [{ streamId, kind: { $case: "halfClose", value: {} } } as Frame]),
    );
  }

  /** The frames of one stream, by kind. */
  of(streamId: number): FrameKind[] {
    return this.frames.flatMap((f) => (f.streamId === streamId && f.kind ? [f.kind] : []));
  }

  /** Resolves with the status the operator sent on `streamId`. */
  status(streamId: number): Promise<Extract<FrameKind, { $case: "status" }>["value"]> {
    return this.until(() => {
      const found = this.of(streamId).find((k) => k.$case === "status");
      return found?.$case === "status" ? found.value : undefined;
    });
  }

  /** The data messages the operator sent on `streamId`. */
  data(streamId: number): Buffer[] {
    return this.of(streamId).flatMap((k) => (k.$case === "data" ? [k.value.data] : []));
  }

  /** Resolves with the first defined value of `probe`, re-checked on every message. */
  until<T>(probe: () => T | undefined): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

const ZERO_SETTINGS: Settings = {
  initialWindowSize: 0,
  maxChunkSize: 0,
  maxConcurrentStreams: 0,
  maxMessageSize: 0,
  pingIntervalMs: 0,
};
