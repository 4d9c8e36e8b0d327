import { Server, ServerCredentials, type ServerDuplexStream, status } from "@grpc/grpc-js";
import { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";

/**
 * An operator that writes raw bytes on plugin streams, without ts-proto
 * serialization, so the plugin client can be fed truncated and invalid
 * protobuf.
 */
export interface ByteSide {
  write(bytes: Buffer): void;
  /** Resolves with the first message from the plugin, now or later, that matches. */
  waitFor(match: (m: PluginStreamMessage) => boolean): Promise<PluginStreamMessage>;
  end(): void;
  closed: Promise<void>;
}

export interface ByteOperator {
  target: string;
  accept(): Promise<ByteSide>;
  close(): Promise<void>;
}

const identity = (b: Buffer) => b;

export async function startByteOperator(): Promise<ByteOperator> {
  const server = new Server();
  const waiting: ((side: ByteSide) => void)[] = [];
  const ready: ByteSide[] = [];
  const open = new Set<ServerDuplexStream<Buffer, Buffer>>();
  server.addService(
    {
      pluginStream: {
        path: PLUGIN_STREAM_PATH,
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      pluginStream(call: ServerDuplexStream<Buffer, Buffer>) {
        open.add(call);
        const received: PluginStreamMessage[] = [];
        const waiters: {
          match: (m: PluginStreamMessage) => boolean;
          resolve: (m: PluginStreamMessage) => void;
        }[] = [];
        call.on("data", (bytes: Buffer) => {
          const message = PluginStreamMessage.decode(bytes);
          received.push(message);
          for (const waiter of [...waiters]) {
            if (waiter.match(message)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(message);
            }
          }
        });
        call.on("error", () => {});
        const closed = new Promise<void>((resolve) => {
          call.on("close", resolve);
          call.on("cancelled", resolve);
          call.on("finish", resolve);
        });
        void closed.then(() => open.delete(call));
        let ended = false;
        const side: ByteSide = {
          write: (bytes) => {
            if (!ended) call.write(bytes);
          },
          waitFor: (match) => {
            const found = received.find(match);
            if (found) return Promise.resolve(found);
            return new Promise((resolve) => waiters.push({ match, resolve }));
          },
          end: () => {
            if (ended) return;
            ended = true;
            call.emit("error", { code: status.UNAVAILABLE, details: "fuzz operator ends the stream" });
          },
          closed,
        };
        const waiter = waiting.shift();
        if (waiter) waiter(side);
        else ready.push(side);
      },
    },
  );
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
    close: () => {
      for (const call of open) call.emit("error", { code: status.UNAVAILABLE, details: "operator closed" });
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
