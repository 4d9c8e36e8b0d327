import { Client, credentials, Metadata, type ServiceError, type status } from "@grpc/grpc-js";
import { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";

/**
 * A plugin stream that writes raw bytes, without ts-proto serialization, so
 * that truncated and invalid protobuf reaches the server as it would from a
 * broken peer.
 */
export interface ByteStream {
  write(bytes: Buffer): void;
  /** Decoded messages from the operator, in order (undecodable ones are skipped). */
  received: PluginStreamMessage[];
  /** Resolves when a received message matches. */
  waitFor(match: (m: PluginStreamMessage) => boolean): Promise<PluginStreamMessage>;
  status: Promise<{ code: status; details: string }>;
  close(): void;
}

const identity = (b: Buffer) => b;

export function openByteStream(target: string): ByteStream {
  const client = new Client(target.replace(/^http:\/\//, ""), credentials.createInsecure());
  const call = client.makeBidiStreamRequest(PLUGIN_STREAM_PATH, identity, identity, new Metadata());
  const received: PluginStreamMessage[] = [];
  const waiters: { match: (m: PluginStreamMessage) => boolean; resolve: (m: PluginStreamMessage) => void }[] =
    [];
  call.on("data", (bytes: Buffer) => {
    let message: PluginStreamMessage;
    try {
      message = PluginStreamMessage.decode(bytes);
    } catch {
      return;
    }
    received.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const ended = new Promise<{ code: status; details: string }>((resolve) => {
    call.on("error", (err: ServiceError) => resolve({ code: err.code, details: err.details }));
    call.on("status", (s) => resolve({ code: s.code, details: s.details }));
  });
  void ended.then(() => client.close());
  return {
    write: (bytes) => {
      call.write(bytes);
    },
    received,
    waitFor: (match) => {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    status: ended,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}
