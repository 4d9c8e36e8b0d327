import type { Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { type Metadata, type Server, status } from "@grpc/grpc-js";
import { newHttp2Servers } from "./grpc-http2-servers.js";

/** Defaults of the stream caps; see `PluginServerOptions` for why each is what it is. */
export const DEFAULT_STREAM_CAPS: Readonly<StreamCapsOptions> = {
  maxStreamsPerConnection: 100,
  maxUnregisteredStreamsPerConnection: 32,
  maxUnregisteredStreams: 1024,
  maxSessionsPerIdentity: 64,
};

/** The caps on the plugin port's streams and sessions. */
export interface StreamCapsOptions {
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS on the plugin port (`grpc.max_concurrent_streams`). */
  maxStreamsPerConnection: number;
  /** Streams open on one HTTP/2 connection that have not registered yet. */
  maxUnregisteredStreamsPerConnection: number;
  /** Streams open on the whole server that have not registered yet. */
  maxUnregisteredStreams: number;
  /** Live sessions of one authenticated identity (user name). */
  maxSessionsPerIdentity: number;
}

/** Why a cap refused a stream: its status, a message naming the bound and its option, and a metric reason. */
export interface CapRefusal {
  code: status;
  details: string;
  /** The `reason` label of `pluginframework_refusals_total`. */
  reason: "unregistered_streams_per_connection" | "unregistered_streams" | "sessions_per_identity";
}

/** A place a stream holds under a cap; `release()` gives it back (idempotent). */
export interface CapSlot {
  release(): void;
}

/**
 * The header that carries a stream's HTTP/2 connection from the `stream`
 * event, where Node names the connection, to the gRPC handler, which sees
 * only metadata. Set by the server for every stream, over anything a client
 * sent, and removed before authenticators see the headers.
 */
const CONNECTION_HEADER = "x-opf-internal-connection";

const tagged = new WeakSet<Http2Server>();
const connectionIds = new WeakMap<Http2Session, string>();
let nextConnectionId = 1;

/**
 * Tags every stream with the HTTP/2 connection it came on, so that
 * {@link StreamCaps} can count unregistered streams per connection. Call
 * after every `bindAsync`, before `keepRepeatedHeaders` (whose listener then
 * runs first, so a client's own repeated header cannot replace the tag).
 * Idempotent per HTTP/2 server.
 */
export function tagConnections(server: Server): void {
  for (const http2Server of newHttp2Servers(server, tagged)) {
    http2Server.prependListener("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const session = stream.session;
      if (!session) return;
      let id = connectionIds.get(session);
      if (id === undefined) {
        id = String(nextConnectionId++);
        connectionIds.set(session, id);
      }
      headers[CONNECTION_HEADER] = id;
    });
  }
}

/** The connection a stream came on (see {@link tagConnections}), removed from its metadata. */
export function takeConnection(metadata: Metadata): string | undefined {
  const values = metadata.get(CONNECTION_HEADER);
  metadata.remove(CONNECTION_HEADER);
  // One value, set by the server; anything else did not come from tagConnections.
  return values.length === 1 && typeof values[0] === "string" ? values[0] : undefined;
}

/**
 * Counts what a hostile client could otherwise open without bound: streams
 * that have not registered (each holds a timer, a call and up to one message
 * until the register timeout), per HTTP/2 connection and in total, and
 * sessions per identity. Past a cap the new stream is refused at once with
 * RESOURCE_EXHAUSTED, naming the bound and its option.
 */
export class StreamCaps {
  private unregistered = 0;
  private readonly perConnection = new Map<string, number>();
  private readonly perIdentity = new Map<string, number>();

  constructor(readonly options: Readonly<StreamCapsOptions>) {}

  /** Streams open now that have not registered (for tests and diagnostics). */
  get unregisteredStreams(): number {
    return this.unregistered;
  }

  /** A new stream, on `connection` when known: a slot until it registers or ends, or a refusal. */
  openUnregistered(connection: string | undefined): CapSlot | CapRefusal {
    const { maxUnregisteredStreams, maxUnregisteredStreamsPerConnection } = this.options;
    const onConnection = connection === undefined ? 0 : (this.perConnection.get(connection) ?? 0);
    if (onConnection >= maxUnregisteredStreamsPerConnection) {
      return {
        code: status.RESOURCE_EXHAUSTED,
        reason: "unregistered_streams_per_connection",
        details:
          `this connection already has ${onConnection} plugin streams that have not registered, the limit ` +
          `(maxUnregisteredStreamsPerConnection: ${maxUnregisteredStreamsPerConnection}); ` +
          "send register first on the streams you opened, or open fewer at once",
      };
    }
    if (this.unregistered >= maxUnregisteredStreams) {
      return {
        code: status.RESOURCE_EXHAUSTED,
        reason: "unregistered_streams",
        details:
          `the operator already has ${this.unregistered} plugin streams that have not registered, the limit ` +
          `(maxUnregisteredStreams: ${maxUnregisteredStreams}); retry after a backoff`,
      };
    }
    this.unregistered++;
    if (connection !== undefined) this.perConnection.set(connection, onConnection + 1);
    return this.slot(() => {
      this.unregistered--;
      if (connection !== undefined) decrement(this.perConnection, connection);
    });
  }

  /** A session of `user` being admitted: a slot for as long as it lives, or a refusal. */
  openSession(user: string): CapSlot | CapRefusal {
    const { maxSessionsPerIdentity } = this.options;
    const sessions = this.perIdentity.get(user) ?? 0;
    if (sessions >= maxSessionsPerIdentity) {
      return {
        code: status.RESOURCE_EXHAUSTED,
        reason: "sessions_per_identity",
        details:
          `${JSON.stringify(user)} already has ${sessions} plugin sessions on this operator, the limit ` +
          `(maxSessionsPerIdentity: ${maxSessionsPerIdentity}); close sessions it no longer needs, ` +
          "or raise maxSessionsPerIdentity if one identity runs that many plugin pods",
      };
    }
    this.perIdentity.set(user, sessions + 1);
    return this.slot(() => decrement(this.perIdentity, user));
  }

  private slot(free: () => void): CapSlot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        free();
      },
    };
  }
}

/** True for a refusal, false for a slot. */
export function isCapRefusal(result: CapSlot | CapRefusal): result is CapRefusal {
  return "code" in result;
}

function decrement(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 1) - 1;
  if (count <= 0) counts.delete(key);
  else counts.set(key, count);
}
