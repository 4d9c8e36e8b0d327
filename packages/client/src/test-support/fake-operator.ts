import { Server, ServerCredentials, type ServerDuplexStream, type status } from "@grpc/grpc-js";
import {
  type Frame,
  PluginFrameworkServiceService,
  type PluginStreamMessage,
  type RegisterAck,
} from "@operator-plugin-framework/proto";

type Payload = NonNullable<PluginStreamMessage["payload"]>;

/** One plugin stream as a hand-driven operator sees it. */
export interface OperatorSide {
  send(message: PluginStreamMessage): void;
  /** The next message from the plugin of this kind; earlier ones of other kinds are skipped. */
  next<C extends Payload["$case"]>(kind: C): Promise<Extract<Payload, { $case: C }>["value"]>;
  /** Ends the stream with a status, as an operator that drops the plugin does. */
  end(code: status, details: string): void;
  /** Acknowledges the registration: revision 1 unless `ack` says otherwise. */
  accept(sessionId?: string, ack?: Partial<RegisterAck>): void;
  /** The next frame from the plugin, whichever batch it came in. */
  nextFrame(): Promise<Frame>;
  /** Sends frames to the plugin in one batch. */
  sendFrames(...frames: Frame[]): void;
}

/** A test-only operator on loopback, driven by hand. Only the client's unit tests use it. */
export async function startFakeOperator(): Promise<{
  target: string;
  accept(): Promise<OperatorSide>;
  close(): Promise<void>;
}> {
  const server = new Server();
  const waiting: ((side: OperatorSide) => void)[] = [];
  const ready: OperatorSide[] = [];
  server.addService(PluginFrameworkServiceService, {
    pluginStream(call: ServerDuplexStream<PluginStreamMessage, PluginStreamMessage>) {
      const inbox: PluginStreamMessage[] = [];
      const readers: (() => void)[] = [];
      call.on("data", (message: PluginStreamMessage) => {
        // Answers a plugin's drain at once, as a live operator does, so close() does not wait out its grace.
        const payload = message.payload;
        if (payload?.$case === "drain" && !payload.value.ack) {
          call.write({ payload: { $case: "drain", value: { ...payload.value, ack: true } } });
        }
        inbox.push(message);
        for (const reader of readers.splice(0)) reader();
      });
      call.on("error", () => {});
      // The plugin half-closed: end our side too, as the operator does.
      call.on("end", () => call.end());
      const frames: Frame[] = [];
      const side: OperatorSide = {
        send: (message) => void call.write(message),
        async next(kind) {
          for (;;) {
            const message = inbox.shift();
            if (message?.payload?.$case === kind) return message.payload.value as never;
            if (!message) await new Promise<void>((resolve) => readers.push(resolve));
          }
        },
        async nextFrame() {
          while (frames.length === 0) frames.push(...(await side.next("frames")).frames);
          return frames.shift()!;
        },
        sendFrames: (...batch) => side.send({ payload: { $case: "frames", value: { frames: batch } } }),
        end: (code, details) => call.emit("error", { code, details }),
        accept: (sessionId = "s1", ack = {}) =>
          side.send({
            payload: {
              $case: "registerAck",
              value: {
                accepted: true,
                protocolRevision: 1,
                sessionId,
                code: 0,
                message: "",
                hostServices: [],
                ...ack,
              },
            },
          }),
      };
      const waiter = waiting.shift();
      if (waiter) waiter(side);
      else ready.push(side);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    target: `http://127.0.0.1:${port}`,
    accept: () => {
      const side = ready.shift();
      return side ? Promise.resolve(side) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
  };
}
