import { type ClientReadableStream, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import {
  AdminServiceClient,
  type CallPluginResponse,
  type PluginInfo,
  type RegistryEvent,
} from "@operator-plugin-framework/proto/admin";
import { CliError, ExitCode } from "./exit-codes.js";

/** Promise-style access to the operator's admin service. */
export interface AdminConnection {
  listPlugins(): Promise<PluginInfo[]>;
  describePlugin(name: string): Promise<PluginInfo>;
  /** The operator's and its plugins' descriptors: a serialized google.protobuf.FileDescriptorSet. */
  fileDescriptorSet(): Promise<Buffer>;
  callPlugin(request: {
    plugin: string;
    method: string;
    request: Buffer;
    timeoutMs: number;
    metadata: Record<string, string>;
  }): AsyncIterable<Buffer>;
  /** Registry events; `onSubscribed` runs once the operator has subscribed, so nothing after it is missed. */
  watch(signal: AbortSignal, onSubscribed?: () => void): AsyncIterable<RegistryEvent>;
  close(): void;
}

/** Time to reach the admin service before giving up with exit code 3. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to the admin service at `address` ("127.0.0.1:9091",
 * "unix:///run/opf-admin.sock"). Plaintext: the admin service listens only on
 * loopback or a unix socket.
 */
export function connectAdmin(address: string): AdminConnection {
  const client = new AdminServiceClient(address, credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  const deadline = () => Date.now() + CONNECT_TIMEOUT_MS;
  const explain = (err: ServiceError) => translate(err, address);
  return {
    listPlugins: () =>
      new Promise((resolve, reject) =>
        client.listPlugins({}, new Metadata(), { deadline: deadline() }, (err, res) =>
          err ? reject(explain(err)) : resolve(res.plugins),
        ),
      ),
    describePlugin: (name) =>
      new Promise((resolve, reject) =>
        client.describePlugin({ name }, new Metadata(), { deadline: deadline() }, (err, res) =>
          err ? reject(explain(err)) : resolve(res),
        ),
      ),
    fileDescriptorSet: () =>
      new Promise((resolve, reject) =>
        client.getFileDescriptorSet({}, new Metadata(), { deadline: deadline() }, (err, res) =>
          err ? reject(explain(err)) : resolve(Buffer.from(res.fileDescriptorSet)),
        ),
      ),
    async *callPlugin(request) {
      // The admin service applies the call's own deadline; ours adds room to hear its answer.
      const stream: ClientReadableStream<CallPluginResponse> = client.callPlugin(request, new Metadata(), {
        deadline: Date.now() + request.timeoutMs + CONNECT_TIMEOUT_MS,
      });
      try {
        for await (const reply of stream) yield Buffer.from((reply as CallPluginResponse).response);
      } catch (err) {
        throw explain(err as ServiceError);
      }
    },
    async *watch(signal, onSubscribed) {
      const stream: ClientReadableStream<RegistryEvent> = client.watch({});
      stream.once("metadata", () => onSubscribed?.());
      const onAbort = () => stream.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        for await (const event of stream) yield event as RegistryEvent;
      } catch (err) {
        if (signal.aborted) return;
        throw explain(err as ServiceError);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    close: () => client.close(),
  };
}

function translate(err: ServiceError, address: string): CliError {
  const unreachable =
    (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) &&
    /connect|No connection established|ECONNREFUSED|ENOENT|Deadline exceeded/i.test(err.details ?? "");
  if (unreachable) {
    return new CliError(
      ExitCode.unreachable,
      `cannot reach the operator's admin service at ${address} (${err.details}); is the operator running with an admin address, and is kubectl port-forward running? Set it with --admin or OPF_ADMIN`,
    );
  }
  return new CliError(ExitCode.failed, `${status[err.code] ?? err.code}: ${err.details}`);
}
