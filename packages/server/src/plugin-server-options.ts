import type { ChannelOptions } from "@grpc/grpc-js";
import type { PluginNameAuthorizer, StreamAuthenticator } from "@operator-plugin-framework/auth";
import type { PluginRegistry } from "@operator-plugin-framework/registry";
import type { Logger } from "@operator-plugin-framework/wire";
import type { HealthOptions } from "./health/operator-health.js";
import type { HostCallAuthorizer } from "./host-call-context.js";
import type { HostServiceEntry } from "./host-services.js";
import type { MetricsOption } from "./observability/prom-types.js";
import type { TracingOption } from "./observability/tracing-types.js";

/** Options of {@link createPluginServer}. */
export interface PluginServerOptions {
  /**
   * Where to listen: "127.0.0.1:PORT" (behind kube-rbac-proxy), "[::1]:PORT",
   * "unix:///abs/path", or "HOST:PORT" for an address reachable from outside
   * the pod (in-process authentication with `tls`). Port 0 picks a free port;
   * `addresses` reports it. Several addresses may be given. With
   * `proxyHeaderAuthenticator()`, any address but loopback or a unix socket is
   * refused (INVALID_ARGUMENT) unless it names its proxy in `trustProxyHeadersFrom`.
   */
  listen: string | string[];
  /** The registry sessions are added to. Default: a new one, at `server.registry`. */
  registry?: PluginRegistry;
  /**
   * Establishes who a plugin is when its stream opens: the auth package's
   * `proxyHeaderAuthenticator()` behind kube-rbac-proxy, or
   * `tokenReviewAuthenticator()` with `tls` for in-process checks. `"none"`
   * chooses local development explicitly: sessions carry no identity.
   * Default: none as well, but with a process warning, since an operator
   * that forgot to choose should be told.
   */
  authenticator?: StreamAuthenticator | "none";
  /**
   * Decides whether an identity may register a name:
   * `subjectAccessReviewNameAuthorizer({ kubeConfig })`, `nameAuthorizer(policy)`,
   * or `allowAllNames()`. Required with an `authenticator`: without it
   * `createPluginServer` throws INVALID_ARGUMENT, since any plugin could
   * otherwise take another's name and its calls; `allowAllNames()` is the
   * explicit opt-out. Default: any name, only without an authenticator.
   */
  authorizeName?: PluginNameAuthorizer;
  /** TLS for the listener (in-process authentication mode). Default: plaintext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest message a plugin may send in one call. Default 4 MiB, as grpc-js. */
  maxReceiveMessageSize?: number;
  /** Largest message sent to a plugin in one call. Default 4 MiB. */
  maxSendMessageSize?: number;
  /**
   * Calls open at once on one plugin session (the plugin may announce a lower
   * figure). Further calls wait in {@link maxQueuedCalls}. Default 1000.
   */
  maxConcurrentStreams?: number;
  /**
   * Calls that may wait, per plugin session, for one of the
   * `maxConcurrentStreams` slots, as an HTTP/2 client waits for a stream.
   * They start first come first served as open calls end, and fail only at
   * their deadline, when cancelled, or with UNAVAILABLE when the session ends
   * (nothing was sent, so a retry is safe). A call that finds this many
   * already waiting fails at once with RESOURCE_EXHAUSTED; 0 makes every call
   * past the limit fail that way. Seed plugins take one call at a time and
   * queue the rest under the same bound. Default 10 000.
   */
  maxQueuedCalls?: number;
  /**
   * HTTP/2 streams one connection may have open at once on the plugin port
   * (`grpc.max_concurrent_streams`, sent in SETTINGS), so one connection
   * cannot open streams without bound. A plugin needs one stream per
   * connection (two while max age replaces it); a proxy in front, such as
   * kube-rbac-proxy, opens another connection when one is full. Default 100.
   */
  maxStreamsPerConnection?: number;
  /**
   * Plugin streams on one HTTP/2 connection that have not registered yet.
   * Each holds a call, a timer and up to one message until `registerTimeoutMs`;
   * past the bound a new stream is refused at once with RESOURCE_EXHAUSTED.
   * A plugin dialling directly has one; kube-rbac-proxy carries many plugins'
   * streams on one connection, and 32 leaves room for that many to register
   * within the same round trip (the rest retry after backoff). Default 32.
   */
  maxUnregisteredStreamsPerConnection?: number;
  /**
   * Plugin streams on the whole server that have not registered yet, over all
   * connections; past it a new stream is refused at once with
   * RESOURCE_EXHAUSTED. 1024 bounds what streams that never register can
   * hold (a few KiB each) to a few MiB. Default 1024.
   */
  maxUnregisteredStreams?: number;
  /**
   * Sessions one authenticated identity (user name) may have at once; past
   * it a registration is refused with RESOURCE_EXHAUSTED naming the identity.
   * The pods of one plugin Deployment share a ServiceAccount, and each holds
   * one session per operator replica (two, briefly, while max age replaces
   * it): 64 admits a Deployment of 60 pods, while one stolen token cannot
   * fill the registry. Not applied without an authenticator. Default 64.
   */
  maxSessionsPerIdentity?: number;
  /** Bytes a plugin may send per call before we grant more. Default 4 MiB. */
  initialWindowSize?: number;
  /**
   * The HTTP/2 receive window of each plugin connection, for the connection
   * and its stream: bytes a plugin may have sent that the operator has not
   * read yet. Node's default of 64 KiB makes a plugin wait for a window
   * update every 64 KiB, which slows bulk transfers and the small calls
   * queued behind them. From 65,535 to 2^31 - 1. Default 1 MiB.
   */
  http2WindowSize?: number;
  /** Largest chunk a plugin may send in one frame. Default 1 MiB. */
  maxChunkSize?: number;
  /**
   * Time a new stream has to send `register` and be admitted (authenticated,
   * name authorized). Past it the stream ends with DEADLINE_EXCEEDED when no
   * `register` came, or UNAVAILABLE naming the check still pending. Default 10 000 ms.
   */
  registerTimeoutMs?: number;
  /**
   * Liveness pings to revision-1 plugins: a ping goes out after `intervalMs`
   * of silence, and a plugin silent for `timeoutMs` with a ping unanswered (a
   * frozen process, a dropped network) is cut and its calls fail with
   * UNAVAILABLE ("no answer to ping within N ms"); with `intervalMs >=
   * timeoutMs` it takes up to interval + timeout. HTTP/2 keepalive uses the
   * same figures.
   * Defaults: every 10 000 ms, 20 000 ms to answer; `intervalMs: 0` turns pings off.
   */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /**
   * Sessions older than this are drained: the plugin registers again on a new
   * stream, with a fresh token that is authenticated and authorized again,
   * and no call fails. This is how rotated tokens and revoked RBAC reach
   * long-lived streams. Default: none (sessions live until they end).
   *
   * Authenticators cache review results, so a revoked token is re-admitted at
   * each max-age cycle until its cache entry expires: see
   * `tokenReviewAuthenticator({ cacheTtlMs })` (default 120 000 ms) and the
   * `allowCacheTtlMs` of the SubjectAccessReviews (default 300 000 ms).
   */
  maxConnectionAgeMs?: number;
  /** On stop, time in-flight calls have to finish before they are cut. Default 10 000 ms. */
  drainGraceMs?: number;
  /**
   * Extra grpc-js server options (keepalive, for instance), over the ones the
   * server sets. Default none. The server turns channelz off
   * (`"grpc.enable_channelz": 0`, a cost per connection); set it to 1 here to
   * inspect connections with channelz.
   */
  grpcOptions?: ChannelOptions;
  /**
   * Where the server logs; a pino logger fits. Default: warnings and errors
   * as JSON lines on stderr (refused plugins, among others); pass
   * `quietLogger` to silence it.
   */
  logger?: Logger;
  /**
   * The gRPC Health Checking Protocol (`grpc.health.v1.Health`, from the
   * optional peer `grpc-health-check`, loaded only when this is set). `""` is
   * SERVING while the server takes plugins and NOT_SERVING from the moment it
   * drains; each of `requiredPlugins` gets `plugin/<name>`, SERVING while that
   * plugin is registered. It is served on the plugin port, and on `listen`
   * too when given: a plaintext address of its own that serves nothing else,
   * for the kubelet's gRPC probe (which can neither use TLS nor reach a
   * loopback-only plugin port). Default: off.
   *
   * @example
   * createPluginServer({ listen: "127.0.0.1:9443", health: { listen: "0.0.0.0:8081" }, ... })
   * // Pod spec: readinessProbe: { grpc: { port: 8081 } }
   */
  health?: boolean | (HealthOptions & { listen?: string });
  /**
   * Prometheus metrics (`pluginframework_*`: sessions, registrations,
   * refusals, calls by plugin, service, method, type and code, call duration,
   * messages and bytes, flow-control stalls, liveness failures, drains).
   * `true` registers them in prom-client's default registry; `{ registry }`
   * in yours. prom-client is an optional peer dependency (`npm install
   * prom-client@^15`), imported when `start()` runs, so `start()` rejects
   * with FAILED_PRECONDITION if it is missing. Service and method labels come
   * only from the services a plugin announced (anything else is `other`);
   * at most 1,000 plugin names and 2,000 methods get labels of their own.
   * Serving `/metrics` is the application's choice (`registry.metrics()`).
   * Default: off, and prom-client is never loaded.
   */
  metrics?: MetricsOption;
  /**
   * OpenTelemetry tracing: every call to a plugin gets a CLIENT span
   * (`rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`,
   * `pluginframework.plugin.name`, `pluginframework.session.id`), a child of
   * the context active when the call starts, and its trace context goes to
   * the plugin in the call's metadata (through the global propagator: W3C
   * `traceparent`/`tracestate` with the SDK's defaults), so the plugin's
   * handler span is its child. `true` uses the global tracer provider;
   * `{ tracerProvider }` yours. @opentelemetry/api is an optional peer
   * dependency (`npm install @opentelemetry/api@^1.9`), imported when
   * `start()` runs, so `start()` rejects with FAILED_PRECONDITION if it is
   * missing. With no tracer provider registered, spans are no-ops.
   * Default: off, and @opentelemetry/api is never loaded.
   */
  tracing?: TracingOption;
  /**
   * Services the operator offers to plugins through their own sessions
   * ("host services"): each entry is what `grpc.Server.addService` takes, a
   * definition and its implementation, with the same handler shapes (all
   * four kinds, callbacks, metadata, deadlines, `cancelled`, trailers).
   * Plugins that speak protocol revision 2 get the list in `register_ack`
   * and call them through the tunnel; a handler learns which plugin calls
   * with `hostCallContext(call)`. Seed and revision-1 plugins see no change.
   * More can be added with `server.addHostService()`. Default: none.
   *
   * @example
   * createPluginServer({
   *   listen: "127.0.0.1:9443",
   *   hostServices: [[CredentialServiceService, { get: (call, callback) => ... }]],
   *   authorizeHostCall: ({ identity, method }) => identity?.user === "system:serviceaccount:dns:aws",
   * });
   */
  hostServices?: readonly HostServiceEntry[];
  /**
   * Decides whether a plugin may call a host-service method, before the
   * handler sees anything; false answers PERMISSION_DENIED with a message
   * naming the plugin, its identity and the method. Default: every
   * registered plugin may call every host service.
   */
  authorizeHostCall?: HostCallAuthorizer;
}

/** A plugin server; see {@link createPluginServer}. */
export interface PluginServer extends AsyncDisposable {
  /** The registry of connected plugins. */
  readonly registry: PluginRegistry;
  /** Bound addresses, ports resolved; empty until `ready()` resolves. */
  readonly addresses: readonly string[];
  /**
   * Listens and serves until `signal` aborts or `stop()` is called, then
   * drains. Resolves once the server has closed its listeners, streams and
   * timers (the OS may free the listening socket one event-loop turn later).
   * Rejects if listening fails. Calling it twice returns the same promise;
   * after `stop()`, or with an already-aborted signal, it resolves without
   * listening, and `ready()` resolves with no addresses.
   */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves with the bound addresses once listening (starts the server if needed). */
  ready(): Promise<readonly string[]>;
  /** Drains and stops; resolves when fully stopped. Safe to call at any time, any number of times. */
  stop(): Promise<void>;
}
