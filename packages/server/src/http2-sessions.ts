import type { Http2Server, Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { Server } from "@grpc/grpc-js";
import { newHttp2Servers } from "./grpc-http2-servers.js";

/**
 * The HTTP/2 sessions (connections) of a grpc-js server, so that a forced
 * shutdown can end them. grpc-js's `forceShutdown()` destroys only the
 * sessions it tracks for channelz; with channelz off (the plugin server's
 * default) it destroys none, and a plugin that never closes its side would
 * hold `stop()` open for good.
 *
 * Their sockets are kept too. A session that was closed gracefully first
 * (grpc-js sends GOAWAY on unbind) waits, even when destroyed, for its
 * socket's writable side to finish before the socket goes; a peer that
 * stopped reading (a frozen or swamped plugin) held that, and `stop()`, for
 * good: 2,000 frozen plugins kept it open for minutes.
 */
export class Http2Sessions {
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<Socket>();
  private readonly watched = new WeakSet<Http2Server>();

  /** Follows the sessions of every HTTP/2 server `server` has bound so far. Idempotent per HTTP/2 server. */
  watch(server: Server): void {
    for (const http2Server of newHttp2Servers(server, this.watched)) {
      http2Server.on("connection", (socket: Socket) => {
        this.sockets.add(socket);
        socket.once("close", () => this.sockets.delete(socket));
      });
      http2Server.on("session", (session: Http2Session) => {
        this.sessions.add(session);
        session.once("close", () => this.sessions.delete(session));
      });
    }
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Destroys every session still open, and the socket under it. */
  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
