import { unlink } from "node:fs/promises";
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { createPluginRegistry, type PluginRegistry } from "@operator-plugin-framework/registry";
import { PluginStreamServiceDefinition, raceTimeout } from "@operator-plugin-framework/wire";
import { checkAuthOptions } from "./auth-checks.js";
import { deferred } from "./deferred.js";
import { OperatorHealth } from "./health/operator-health.js";
import { Http2Sessions } from "./http2-sessions.js";
import {
  checkHttp2WindowSize,
  configurePluginConnections,
  DEFAULT_HTTP2_WINDOW_SIZE,
} from "./http2-settings.js";
import {
  formatListenAddress,
  type ListenAddress,
  parseListenAddress,
  removeStaleSocket,
} from "./listen-address.js";
import { loadServerMetrics } from "./observability/load-metrics.js";
import { loadServerTracing } from "./observability/load-tracing.js";
import { composeServerObservers } from "./observability/server-observer.js";
import type { PluginServerOptions } from "./plugin-server-options.js";
import { PluginStream, type StreamContext } from "./plugin-stream.js";
import { tagConnections } from "./stream-caps.js";
import { resolveStreamContext } from "./stream-context.js";
import { keepRepeatedHeaders } from "./stream-headers.js";

/** A plugin server; see {@link createPluginServer}. */
export interface PluginServer extends AsyncDisposable {
  /** The registry of connected plugins. */
  readonly registry: PluginRegistry;
  /** Bound addresses, ports resolved; empty until `ready()` resolves. */
  readonly addresses: readonly string[];
  /** The health probe address (`health.listen`), port resolved, once `ready()` resolves. */
  readonly healthAddress: string | undefined;
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
  /**
   * Offers one more host service (see `hostServices` in the options), with
   * the arguments `grpc.Server.addService` takes. Allowed at any time, before
   * or after `start()`: every new call is served from the services present
   * when it arrives, so nothing needs a restart. Plugins learn the list from
   * `register_ack`, though, so a plugin that registered before this call does
   * not see the service listed until it registers again; add services before
   * `start()` for every plugin to see them. Throws INVALID_ARGUMENT if one of
   * the service's methods is offered already.
   */
  addHostService(definition: ServiceDefinition, implementation: UntypedServiceImplementation | object): void;
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
  return new PluginServerImpl(options);
}

const SHUTTING_DOWN = "the operator is shutting down";
/** After this, connections that did not close on their own are destroyed. */
const FORCE_SHUTDOWN_MS = 1_000;

/**
 * Where a server is in its life. `done` is the promise `start()` returns; it
 * settles once the server is stopped. Each state holds exactly what exists in
 * it: the grpc-js server from the moment it binds until it has shut down.
 */
export type ServerState =
  | { kind: "idle" }
  | { kind: "starting"; done: Promise<void>; grpc: Server }
  | { kind: "serving"; done: Promise<void>; grpc: Server }
  | { kind: "stopping"; done: Promise<void> }
  | { kind: "stopped"; done: Promise<void> };

/** The {@link PluginServer} behind {@link createPluginServer}. */
export class PluginServerImpl implements PluginServer {
  readonly registry: PluginRegistry;
  readonly addresses: string[] = [];
  healthAddress: string | undefined;
  private s: ServerState = { kind: "idle" };
  private readonly listen: ListenAddress[];
  private readonly context: StreamContext;
  private readonly streams = new Set<PluginStream>();
  private readonly connections = new Http2Sessions();
  private readonly http2WindowSize: number;
  private readonly socketsCreated: string[] = [];
  private readonly readiness = deferred<readonly string[]>();
  private readonly stopRequest = deferred<void>();
  private stopped: Promise<void> | undefined;
  private health: { service: OperatorHealth; probeServer: Server | undefined } | undefined;

  constructor(private readonly options: PluginServerOptions) {
    this.registry = options.registry ?? createPluginRegistry();
    const resolved = resolveStreamContext(options, this.registry, {
      refusal: () => (this.s.kind === "stopping" || this.s.kind === "stopped" ? SHUTTING_DOWN : undefined),
      track: (stream) => {
        this.streams.add(stream);
        return () => this.streams.delete(stream);
      },
    });
    this.listen = resolved.listen;
    this.context = resolved.context;
    this.http2WindowSize = checkHttp2WindowSize(options.http2WindowSize ?? DEFAULT_HTTP2_WINDOW_SIZE);
    checkAuthOptions({
      authenticator: options.authenticator,
      authorizeName: options.authorizeName,
      listen: this.listen,
    });
  }

  /** Which state the server is in (for tests and diagnostics). */
  state(): ServerState["kind"] {
    return this.s.kind;
  }

  start(signal?: AbortSignal): Promise<void> {
    if (this.s.kind !== "idle") return this.s.done;
    // Stopped before it started (an already-aborted signal): never listen.
    if (signal?.aborted) return this.stopUnstarted();
    const done = deferred<void>();
    this.s = { kind: "starting", done: done.promise, grpc: this.createGrpcServer() };
    this.run(this.s.grpc, done.promise, signal).then(done.resolve, done.reject);
    // The caller may ignore start()'s promise and use ready() instead.
    done.promise.catch(() => {});
    return done.promise;
  }

  ready(): Promise<readonly string[]> {
    if (this.s.kind === "idle") void this.start();
    return this.readiness.promise;
  }

  stop(): Promise<void> {
    this.stopRequest.resolve();
    // The same promise every time; a start() that failed counts as stopped.
    this.stopped ??= (this.s.kind === "idle" ? this.stopUnstarted() : this.s.done).catch(() => {});
    return this.stopped;
  }

  addHostService(definition: ServiceDefinition, implementation: UntypedServiceImplementation | object): void {
    this.context.host.services.add(definition, implementation);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private stopUnstarted(): Promise<void> {
    const done = Promise.resolve();
    this.s = { kind: "stopped", done };
    this.readiness.resolve(this.addresses);
    return done;
  }

  private async run(grpc: Server, done: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    const onAbort = () => this.stopRequest.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      try {
        await this.startHealth(grpc);
        // Before listening, so every session is counted from the first.
        if (this.options.metrics) this.context.observer = await loadServerMetrics(this.options.metrics);
        if (this.options.tracing) {
          const tracing = await loadServerTracing(this.options.tracing);
          this.context.observer = composeServerObservers(this.context.observer, tracing);
        }
        await this.bindAll(grpc);
      } catch (err) {
        this.readiness.reject(err);
        throw err;
      }
      this.s = { kind: "serving", done, grpc };
      this.health?.service.setServing(true);
      this.readiness.resolve(this.addresses);
      this.context.logger.info({ addresses: this.addresses }, "plugin server listening");
      await this.stopRequest.promise;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await this.shutdown(grpc, done);
    }
  }

  private createGrpcServer(): Server {
    const { keepalive, limits, caps } = this.context;
    const grpc = new Server({
      // One connection may not open streams without bound (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
      "grpc.max_concurrent_streams": caps.options.maxStreamsPerConnection,
      // A batch of frames is bounded by the scheduler; leave room for one
      // whole message plus framing.
      "grpc.max_receive_message_length": limits.maxReceiveMessageSize + 1024 * 1024,
      "grpc.max_send_message_length": -1,
      ...(keepalive.intervalMs > 0
        ? {
            "grpc.keepalive_time_ms": keepalive.intervalMs,
            "grpc.keepalive_timeout_ms": keepalive.timeoutMs,
            "grpc.keepalive_permit_without_calls": 1,
            "grpc.http2.min_ping_interval_without_data_ms": Math.min(keepalive.intervalMs, 5_000),
          }
        : {}),
      // channelz registers every connection in a process-wide table and
      // traces it: at 10,000 plugins that is memory and CPU per session for
      // a debugging interface nothing here serves. grpcOptions may turn it on.
      "grpc.enable_channelz": 0,
      ...this.options.grpcOptions,
    });
    grpc.addService(PluginStreamServiceDefinition, {
      pluginStream: (call: ConstructorParameters<typeof PluginStream>[0]) => {
        new PluginStream(call, this.context);
      },
    });
    return grpc;
  }

  /** Loads the health service when asked for, on the plugin port and on its own probe address. */
  private async startHealth(grpc: Server): Promise<void> {
    const option = this.options.health;
    if (!option) return;
    const settings = option === true ? {} : option;
    const service = await OperatorHealth.create(this.registry, settings);
    this.health = { service, probeServer: undefined };
    service.addTo(grpc);
    if (settings.listen) {
      const address = parseListenAddress(settings.listen);
      const probeServer = new Server();
      this.health.probeServer = probeServer;
      service.addTo(probeServer);
      const port = await new Promise<number>((resolve, reject) =>
        probeServer.bindAsync(
          formatListenAddress(address),
          ServerCredentials.createInsecure(),
          (err, bound) => (err ? reject(err) : resolve(bound)),
        ),
      );
      this.healthAddress = formatListenAddress(address, port);
      this.context.logger.info({ address: this.healthAddress }, "health probe address listening");
    }
  }

  private async bindAll(grpc: Server): Promise<void> {
    const tls = this.options.tls;
    const credentials = tls
      ? ServerCredentials.createSsl(
          null,
          [{ cert_chain: toBuffer(tls.cert), private_key: toBuffer(tls.key) }],
          false,
        )
      : ServerCredentials.createInsecure();
    for (const address of this.listen) {
      if (address.kind === "unix") await removeStaleSocket(address.path);
      const port = await new Promise<number>((resolve, reject) =>
        grpc.bindAsync(formatListenAddress(address), credentials, (err, bound) =>
          err ? reject(err) : resolve(bound),
        ),
      );
      // Before keepRepeatedHeaders: its listener must run first (see tagConnections).
      tagConnections(grpc);
      keepRepeatedHeaders(grpc);
      configurePluginConnections(grpc, this.http2WindowSize);
      this.connections.watch(grpc);
      if (address.kind === "unix") this.socketsCreated.push(address.path);
      this.addresses.push(formatListenAddress(address, port));
    }
  }

  /** Drains every stream, waits for their calls up to the grace period, then closes everything. */
  private async shutdown(grpc: Server, done: Promise<void>): Promise<void> {
    this.s = { kind: "stopping", done };
    const started = performance.now();
    // Probes see the drain at once, so traffic moves before the calls are cut.
    this.health?.service.setServing(false);
    // Stop listening, and send GOAWAY on every connection (open streams go
    // on): a drained plugin's new registration then reaches the next
    // operator, instead of being refused here and backing off meanwhile.
    for (const address of this.addresses) grpc.unbind(address);
    const graceMs = this.context.drainGraceMs;
    const sessions = this.streams.size;
    for (const stream of this.streams) stream.drain({ reason: SHUTTING_DOWN, graceMs, mode: "refuse-new" });
    await raceTimeout(Promise.all([...this.streams].map((stream) => stream.idle())), graceMs);
    const drainedAt = performance.now();
    for (const stream of [...this.streams]) stream.end(status.UNAVAILABLE, SHUTTING_DOWN);
    const closed = new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
    const forced = !(await raceTimeout(closed, FORCE_SHUTDOWN_MS));
    const open = this.connections.size;
    const forcedAt = performance.now();
    if (forced) {
      grpc.forceShutdown();
      // grpc-js destroys only the sessions channelz tracked: none with channelz off.
      this.connections.destroyAll();
      await closed;
    }
    const closedAt = performance.now();
    this.health?.probeServer?.forceShutdown();
    this.health?.service.close();
    await Promise.all(this.socketsCreated.map((path) => unlink(path).catch(() => {})));
    this.s = { kind: "stopped", done };
    // How long each phase took: what to look at when a rollout waits on the old operator.
    this.context.logger.info(
      {
        sessions,
        drainMs: Math.round(drainedAt - started),
        closeMs: Math.round(performance.now() - drainedAt),
        forced,
        openAtForce: open,
        forceMs: Math.round(closedAt - forcedAt),
      },
      "plugin server stopped",
    );
  }
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === "string" ? Buffer.from(value) : value;
}
