import { once } from "node:events";
import {
  type ClientHttp2Session,
  createSecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { readBearerToken } from "./bearer-token.js";
import { forwardStream } from "./forward-stream.js";
import { replyError } from "./http-reply.js";
import { createKubeReviews, type KubeReviews } from "./kube-reviews.js";
import { createPathFilter } from "./path-match.js";
import { cacheReviews } from "./review-cache.js";
import type {
  FakeKubeRbacProxy,
  FakeKubeRbacProxyOptions,
  ProxyAuthorizationAttributes,
  ProxyIdentity,
  ProxyLogger,
  ProxyStats,
} from "./types.js";
import { parseUpstream } from "./upstream.js";
import { upstreamHeaders } from "./upstream-headers.js";

const noop = () => {};
const quiet: ProxyLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** The real proxy's HTTP-method-to-verb mapping. */
const VERBS: Record<string, string> = {
  POST: "create",
  GET: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * Starts a fake kube-rbac-proxy on 127.0.0.1: TLS + HTTP/2 in, h2c out. It
 * checks, in the real proxy's order, the allowed paths (404), the bearer
 * token (401) and the SubjectAccessReview (403), then forwards the stream.
 *
 * Each inbound HTTP/2 session gets its own upstream session, opened on its
 * first forwarded request and reopened if the upstream drops it, so that one
 * plugin connection maps to one operator connection and dropping one never
 * affects another.
 *
 * @example
 * ```ts
 * await using proxy = await startFakeKubeRbacProxy({
 *   upstream: `http://127.0.0.1:${operatorPort}`,
 *   tls: certs.server,
 *   authenticate: async (token) => (token === "t" ? { user: "alice", groups: [] } : undefined),
 *   authorize: async ({ verb, path }) => verb === "create" && path === "/pkg.Svc/Method",
 *   authHeaderFields: true,
 * });
 * ```
 */
export async function startFakeKubeRbacProxy(options: FakeKubeRbacProxyOptions): Promise<FakeKubeRbacProxy> {
  const logger = options.logger ?? quiet;
  const target = parseUpstream(options.upstream);
  const allowed = createPathFilter(options.allowPaths ?? []);
  let reviews: KubeReviews | undefined;
  if (options.kube && (!options.authenticate || !options.authorize)) {
    reviews = createKubeReviews(options.kube, options.audiences ?? []);
  }
  const authenticateOnce = options.authenticate ?? reviews?.authenticate;
  const authorizeOnce = options.authorize ?? reviews?.authorize;
  if (!authenticateOnce || !authorizeOnce) {
    throw new Error("startFakeKubeRbacProxy needs `kube`, or both `authenticate` and `authorize`");
  }
  const { authenticate, authorize } = options.cache
    ? cacheReviews(authenticateOnce, authorizeOnce, options.cache === true ? {} : options.cache)
    : { authenticate: authenticateOnce, authorize: authorizeOnce };
  const identityHeaders = options.authHeaderFields
    ? {
        user: (options.userHeader ?? "x-remote-user").toLowerCase(),
        groups: (options.groupsHeader ?? "x-remote-groups").toLowerCase(),
        separator: options.groupSeparator ?? "|",
      }
    : undefined;

  const stats: ProxyStats = { requests: 0, unauthenticated: 0, forbidden: 0, notFound: 0 };
  const sockets = new Set<Socket>();
  const inboundSessions = new Set<ServerHttp2Session>();
  const upstreamSessions = new Set<ClientHttp2Session>();
  let closed = false;

  // HTTP/2 flow control bounds what is buffered per stream; Node's default
  // 10 MB session memory cap would instead reset busy sessions (grpc-js lifts
  // it the same way).
  const server = createSecureServer({
    cert: options.tls.cert,
    key: options.tls.key,
    ALPNProtocols: ["h2"],
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", (err) => logger.debug({ err: String(err) }, "TLS handshake failed"));
  server.on("sessionError", (err) => logger.debug({ err: String(err) }, "inbound session error"));
  server.on("session", (session: ServerHttp2Session) => {
    inboundSessions.add(session);
    let upstream: ClientHttp2Session | undefined;
    const upstreamSession = (): ClientHttp2Session => {
      if (closed) throw new Error("proxy is closed");
      if (!upstream || upstream.closed || upstream.destroyed) {
        const opened = target.connect();
        upstreamSessions.add(opened);
        opened.on("error", (err) => logger.debug({ err: String(err) }, "upstream session error"));
        opened.once("close", () => upstreamSessions.delete(opened));
        upstream = opened;
      }
      return upstream;
    };
    session.on("error", (err) => logger.debug({ err: String(err) }, "inbound session error"));
    session.once("close", () => {
      inboundSessions.delete(session);
      upstream?.destroy();
    });
    session.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      handle(stream, headers, upstreamSession).catch((err) => {
        logger.error({ err: String(err) }, "request handling failed");
        replyError(stream, 500, "Internal Server Error");
      });
    });
  });

  async function handle(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    upstreamSession: () => ClientHttp2Session,
  ): Promise<void> {
    stats.requests++;
    stream.on("error", noop);
    const rawPath = headers[":path"] ?? "/";
    const path = rawPath.split("?")[0] ?? "/";
    if (!allowed(path)) {
      stats.notFound++;
      logger.debug({ path }, "path not allowed, answering 404");
      replyError(stream, 404, "404 page not found");
      return;
    }

    const token = readBearerToken(headers.authorization);
    let identity: ProxyIdentity | undefined;
    if (token !== undefined) {
      try {
        identity = await authenticate(token);
      } catch (err) {
        logger.error({ err: String(err) }, "Unable to authenticate the request due to an error");
      }
    }
    if (!identity) {
      stats.unauthenticated++;
      logger.debug({ path, tokenPresent: token !== undefined }, "unauthenticated, answering 401");
      replyError(stream, 401, "Unauthorized");
      return;
    }

    const method = headers[":method"] ?? "";
    const attributes: ProxyAuthorizationAttributes = {
      user: identity.user,
      groups: identity.groups,
      verb: VERBS[method] ?? "*",
      ...(options.resourceAttributes ? { resourceAttributes: { ...options.resourceAttributes } } : { path }),
    };
    const resource = options.resourceAttributes?.resource ?? "";
    const subresource = options.resourceAttributes?.subresource ?? "";
    const describe = `user=${identity.user}, verb=${attributes.verb}, resource=${resource}, subresource=${subresource}`;
    let permitted: boolean;
    try {
      permitted = await authorize(attributes);
    } catch (err) {
      logger.error({ err: String(err) }, "authorization error");
      replyError(stream, 500, `Authorization error (${describe})`);
      return;
    }
    if (!permitted) {
      stats.forbidden++;
      logger.debug({ path, user: identity.user }, "forbidden, answering 403");
      replyError(stream, 403, `Forbidden (${describe})`);
      return;
    }

    if (closed || stream.destroyed || stream.closed) return;
    const outgoing = upstreamHeaders(headers, {
      path: target.rewritePath(rawPath),
      remoteAddress: stream.session?.socket?.remoteAddress,
      identity,
      ...(identityHeaders ? { identityHeaders } : {}),
    });
    logger.debug({ path, user: identity.user }, "forwarding");
    forwardStream(stream, outgoing, upstreamSession, logger);
  }

  function dropConnections(): void {
    for (const session of inboundSessions) session.destroy();
    for (const session of upstreamSessions) session.destroy();
  }

  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    dropConnections();
    for (const socket of sockets) socket.destroy();
    reviews?.close();
    await stopped;
  }

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stats,
    connections: () => inboundSessions.size,
    dropConnections,
    close,
    [Symbol.asyncDispose]: close,
  };
}
