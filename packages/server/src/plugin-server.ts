import { unlink } from "node:fs/promises";
import { type ChannelOptions, Server, ServerCredentials, status } from "@grpc/grpc-js";
import type { PluginNameAuthorizer, StreamAuthenticator } from "@operator-plugin-framework/auth";
import { createPluginRegistry, type PluginRegistry } from "@operator-plugin-framework/registry";
import {
  DEFAULT_SETTINGS,
  type Logger,
  PluginStreamServiceDefinition,
  quietLogger,
  raceTimeout,
} from "@operator-plugin-framework/wire";
import { formatListenAddress, parseListenAddress, removeStaleSocket } from "./listen-address.js";
import { PluginStream, type StreamContext } from "./plugin-stream.js";

/** Options of {@link createPluginServer}. */
export interface PluginServerOptions {
  /**
   * Where to listen: "127.0.0.1:PORT" (behind kube-rbac-proxy), "[::1]:PORT",
   * or "unix:///abs/path". Port 0 picks a free port; `addresses` reports it.
   * Several addresses may be given.
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
  /** Decides whether an identity may register a name. Default: any name. */
  authorizeName?: PluginNameAuthorizer;
  /** TLS for the listener (in-process authentication mode). Default: plaintext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest message a plugin may send in one call. Default 4 MiB, as grpc-js. */
  maxReceiveMessageSize?: number;
  /** Largest message sent to a plugin in one call. Default 4 MiB. */
  maxSendMessageSize?: number;
  /** Calls open at once on one plugin session. Default 1000. */
  maxConcurrentStreams?: number;
  /** Bytes a plugin may send per call before we grant more. Default 1 MiB. */
  initialWindowSize?: number;
  /** Largest chunk a plugin may send in one frame. Default 64 KiB. */
  maxChunkSize?: number;
  /** Time a new stream has to send `register`. Default 10 000 ms. */
  registerTimeoutMs?: number;
  /**
   * Liveness pings to revision-1 plugins: a plugin that does not answer one
   * within `timeoutMs` (a frozen process, a dropped network) is cut and its
   * calls fail with UNAVAILABLE. HTTP/2 keepalive uses the same figures.
   * Defaults: every 10 000 ms, 20 000 ms to answer; `intervalMs: 0` turns pings off.
   */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /**
   * Sessions older than this are drained: the plugin registers again on a new
   * stream, with a fresh token that is authenticated and authorized again,
   * and no call fails. This is how rotated tokens and revoked RBAC reach
   * long-lived streams. Default: none (sessions live until they end).
   */
  maxConnectionAgeMs?: number;
  /** On stop, time in-flight calls have to finish before they are cut. Default 10 000 ms. */
  drainGraceMs?: number;
  /** Extra grpc-js server options (keepalive, for instance). Default none. */
  grpcOptions?: ChannelOptions;
  /** Where the server logs. Default: quiet. */
  logger?: Logger;
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

/**
 * Creates the operator side of the plugin framework.
 *
 * @example
 * const server = createPluginServer({ listen: "127.0.0.1:9443" });
 * void server.start(signal);
 * const reply = await server.registry.get("aws").call(GreeterServiceService.sayHello, { name: "x" });
 */
export function createPluginServer(options: PluginServerOptions): PluginServer {
  const logger = options.logger ?? quietLogger;
  const registry = options.registry ?? createPluginRegistry();
  const listen = (Array.isArray(options.listen) ? options.listen : [options.listen]).map(parseListenAddress);
  const maxReceive = options.maxReceiveMessageSize ?? DEFAULT_SETTINGS.maxMessageSize;
  const keepalive = { intervalMs: 10_000, timeoutMs: 20_000, ...options.keepalive };
  const streams = new Set<PluginStream>();
  const socketsCreated: string[] = [];
  const addresses: string[] = [];
  let stopping: string | undefined;
  let grpcServer: Server | undefined;
  let started: Promise<void> | undefined;
  let readyPromise: Promise<readonly string[]> | undefined;
  let resolveReady: (value: readonly string[]) => void = () => {};
  let rejectReady: (err: unknown) => void = () => {};
  let stopped: Promise<void> | undefined;
  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });

  const authenticator = options.authenticator === "none" ? undefined : options.authenticator;
  if (options.authenticator === undefined) {
    process.emitWarning(
      'createPluginServer() has no authenticator: plugins are not authenticated. Choose one, or pass authenticator: "none" for local development.',
      "PluginServerWarning",
    );
  }
  if (!authenticator) logger.warn({}, "plugin server does not authenticate plugins (development only)");

  const context: StreamContext = {
    registry,
    authenticator,
    authorizeName: options.authorizeName,
    limits: {
      maxReceiveMessageSize: maxReceive,
      maxSendMessageSize: options.maxSendMessageSize ?? DEFAULT_SETTINGS.maxMessageSize,
      maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams,
    },
    localSettings: {
      initialWindowSize: options.initialWindowSize ?? DEFAULT_SETTINGS.initialWindowSize,
      maxChunkSize: options.maxChunkSize ?? DEFAULT_SETTINGS.maxChunkSize,
      maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams,
      maxMessageSize: maxReceive,
      pingIntervalMs: 0,
    },
    registerTimeoutMs: options.registerTimeoutMs ?? 10_000,
    keepalive,
    maxConnectionAgeMs: options.maxConnectionAgeMs,
    drainGraceMs: options.drainGraceMs ?? 10_000,
    logger,
    refusal: () => stopping,
    track(stream) {
      streams.add(stream);
      return () => streams.delete(stream);
    },
  };

  async function listenAll(): Promise<void> {
    const server = new Server({
      // A batch of frames is bounded by the scheduler; leave room for one
      // whole message plus framing.
      "grpc.max_receive_message_length": maxReceive + 1024 * 1024,
      "grpc.max_send_message_length": -1,
      ...(keepalive.intervalMs > 0
        ? {
            "grpc.keepalive_time_ms": keepalive.intervalMs,
            "grpc.keepalive_timeout_ms": keepalive.timeoutMs,
            "grpc.keepalive_permit_without_calls": 1,
            "grpc.http2.min_ping_interval_without_data_ms": Math.min(keepalive.intervalMs, 5_000),
          }
        : {}),
      ...options.grpcOptions,
    });
    server.addService(PluginStreamServiceDefinition, {
      pluginStream: (call: ConstructorParameters<typeof PluginStream>[0]) => {
        new PluginStream(call, context);
      },
    });
    grpcServer = server;
    const credentials = options.tls
      ? ServerCredentials.createSsl(
          null,
          [{ cert_chain: toBuffer(options.tls.cert), private_key: toBuffer(options.tls.key) }],
          false,
        )
      : ServerCredentials.createInsecure();
    for (const address of listen) {
      if (address.kind === "unix") await removeStaleSocket(address.path);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(formatListenAddress(address), credentials, (err, bound) =>
          err ? reject(err) : resolve(bound),
        ),
      );
      if (address.kind === "unix") socketsCreated.push(address.path);
      addresses.push(formatListenAddress(address, port));
    }
    logger.info({ addresses }, "plugin server listening");
  }

  async function shutdown(): Promise<void> {
    stopping = "the operator is shutting down";
    const grace = options.drainGraceMs ?? 10_000;
    for (const stream of streams) stream.drain(stopping, grace);
    await raceTimeout(Promise.all([...streams].map((stream) => stream.idle())), grace);
    for (const stream of [...streams]) stream.end(status.UNAVAILABLE, stopping);
    const server = grpcServer;
    if (server) {
      const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (!(await raceTimeout(closed, 1_000))) {
        server.forceShutdown();
        await closed;
      }
    }
    await Promise.all(socketsCreated.map((path) => unlink(path).catch(() => {})));
    logger.info({}, "plugin server stopped");
  }

  const server: PluginServer = {
    registry,
    addresses,
    start(signal) {
      if (started) return started;
      readyPromise ??= new Promise((resolve, reject) => {
        resolveReady = resolve;
        rejectReady = reject;
      });
      started = (async () => {
        const onAbort = () => stopRequested();
        // Stopped before it started (stop(), or an already-aborted signal): never listen.
        if (signal?.aborted) stopping = "the operator is shutting down";
        signal?.addEventListener("abort", onAbort, { once: true });
        try {
          if (stopping) resolveReady(addresses);
          else {
            try {
              await listenAll();
              resolveReady(addresses);
            } catch (err) {
              rejectReady(err);
              throw err;
            }
            await stopSignal;
          }
        } finally {
          signal?.removeEventListener("abort", onAbort);
          await shutdown();
        }
      })();
      started.catch(() => {});
      return started;
    },
    ready() {
      if (!started) void server.start().catch(() => {});
      return readyPromise!;
    },
    stop() {
      stopped ??= (async () => {
        stopRequested();
        if (!started) {
          stopping = "the operator is shutting down";
          return;
        }
        await started.catch(() => {});
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === "string" ? Buffer.from(value) : value;
}
