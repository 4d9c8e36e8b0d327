import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { status } from "@grpc/grpc-js";
import { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";

/** How the operator ended a stream, as read from its gRPC status headers or trailers. */
export interface StreamOutcome {
  code: status;
  details: string;
}

/** A plugin stream spoken by hand over `node:http2`, headers and frames exactly as given. */
export interface RawPluginStream {
  readonly stream: ClientHttp2Stream;
  /** Writes one length-prefixed PluginStreamMessage. */
  send(message: PluginStreamMessage): void;
  /** How the operator ended the stream. A stream reset without a status ends as UNKNOWN, saying so. */
  readonly outcome: Promise<StreamOutcome>;
}

/** Opens an HTTP/2 connection to the operator (plaintext, loopback), as an attacker would. */
export function connectRaw(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`);
  // An attacker's connection may be cut by the server; that is what the tests look at, not an error.
  session.on("error", () => {});
  return session;
}

/**
 * Opens a plugin stream with `headers` (an array value sends that header
 * field once per element). Response messages are read and dropped unless
 * `read` is false, in which case the stream never reads (HTTP/2 window fills).
 */
export function openRawPluginStream(
  session: ClientHttp2Session,
  headers: Record<string, string | string[]> = {},
  options: { read?: boolean } = {},
): RawPluginStream {
  const stream = session.request({
    ":method": "POST",
    ":path": PLUGIN_STREAM_PATH,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  stream.on("error", () => {});
  if (options.read !== false) stream.resume();
  const outcome = new Promise<StreamOutcome>((resolve) => {
    const fromHeaders = (received: Record<string, unknown>) => {
      const code = received["grpc-status"];
      if (code === undefined) return;
      const message = received["grpc-message"];
      resolve({
        code: Number(code) as status,
        details: typeof message === "string" ? decodeURIComponent(message) : "",
      });
    };
    stream.on("response", fromHeaders);
    stream.on("trailers", fromHeaders);
    stream.on("close", () =>
      resolve({
        code: status.UNKNOWN,
        details: `stream closed without a gRPC status (HTTP/2 code ${stream.rstCode})`,
      }),
    );
  });
  return {
    stream,
    send(message) {
      const body = PluginStreamMessage.encode(message).finish();
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      stream.write(frame);
    },
    outcome,
  };
}

/** A revision-1 register message for `name`. */
export function registerMessage(name: string): PluginStreamMessage {
  return {
    payload: {
      $case: "register",
      value: {
        name,
        version: "v1",
        protocolRevision: 1,
        services: [],
        settings: undefined,
        labels: {},
        fileDescriptorSet: Buffer.alloc(0),
      },
    },
  };
}
