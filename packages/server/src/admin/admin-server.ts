import { unlink } from "node:fs/promises";
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import { AdminServiceService } from "@operator-plugin-framework/proto/admin";
import type { PluginRegistry } from "@operator-plugin-framework/registry";
import { type Logger, PluginFrameworkError, quietLogger } from "@operator-plugin-framework/wire";
import { deferred } from "../deferred.js";
import {
  formatListenAddress,
  type ListenAddress,
  parseListenAddress,
  removeStaleSocket,
} from "../listen-address.js";
import { createAdminService } from "./admin-service.js";
import { checkFileDescriptorSet } from "./descriptor-set.js";

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  /** The registry to show and call through. */
  registry: PluginRegistry;
  /**
   * Where to listen: a loopback address ("127.0.0.1:PORT", "[::1]:PORT"; port
   * 0 picks one) or "unix:///abs/path". Anything else is refused: the admin
   * service has no authentication, so it must never be reachable from the
   * network. Reach it with `kubectl port-forward` or `kubectl exec`.
   */
  listen: string;
  /**
   * Whether `opf call` may call plugins through the admin service. Default
   * true; false makes it read-only (plugins, describe, watch).
   */
  allowCalls?: boolean;
  /** Deadline of an admin call that sets none. Default 30 000 ms. */
  defaultCallTimeoutMs?: number;
  /**
   * The operator's descriptors of the services it calls plugins with: the
   * bytes of a google.protobuf.FileDescriptorSet with imports included
   * (`buf build -o set.binpb`, or `protoc --include_imports
   * --descriptor_set_out`). `opf call` uses them when no `--proto` is given,
   * to turn `--data` JSON into a request and replies into JSON. Checked to be
   * a FileDescriptorSet when the server is created (INVALID_ARGUMENT if not).
   * Default: none; `opf call` then needs `--proto`.
   */
  fileDescriptorSet?: Uint8Array;
  /** Where the admin server logs. Default: quiet. */
  logger?: Logger;
}

/** The admin server; see {@link createAdminServer}. */
export interface AdminServer extends AsyncDisposable {
  /** Serves until `signal` aborts or `stop()` is called; resolves when closed. */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves with the bound address (port resolved) once listening. */
  ready(): Promise<string>;
  /** Stops serving; resolves when closed. */
  stop(): Promise<void>;
}

type State =
  | { kind: "idle" }
  | { kind: "serving"; server: Server; address: string; socket: string | undefined }
  | { kind: "stopped" };

/**
 * The operator's admin service for the `opf` debug CLI: lists plugins and
 * their sessions, describes one, streams registry events, and calls a plugin
 * through its session. It listens on its own loopback or unix address, never
 * on the plugin port.
 *
 * @example
 * const admin = createAdminServer({ registry: server.registry, listen: "127.0.0.1:9091" });
 * void admin.start(signal);
 * // then, in the pod: opf --admin 127.0.0.1:9091 plugins
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  return new AdminServerImpl(options);
}

class AdminServerImpl implements AdminServer {
  private state: State = { kind: "idle" };
  private readonly address: ListenAddress;
  private readonly fileDescriptorSet: Buffer | undefined;
  private readonly stopRequested = deferred<void>();
  private readonly listening = deferred<string>();
  private started: Promise<void> | undefined;

  constructor(private readonly options: AdminServerOptions) {
    this.address = parseListenAddress(options.listen);
    this.fileDescriptorSet = options.fileDescriptorSet && checkFileDescriptorSet(options.fileDescriptorSet);
    if (this.address.kind === "tcp" && !isLoopback(this.address.host)) {
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `admin listen address ${JSON.stringify(options.listen)} is not loopback; the admin service has no authentication and can call every plugin, so it listens only on 127.0.0.1, [::1] or a unix socket (reach it with kubectl port-forward or kubectl exec)`,
      );
    }
  }

  start(signal?: AbortSignal): Promise<void> {
    this.started ??= this.run(signal);
    return this.started;
  }

  ready(): Promise<string> {
    if (!this.started) void this.start().catch(() => {});
    return this.listening.promise;
  }

  async stop(): Promise<void> {
    this.stopRequested.resolve();
    if (this.state.kind === "idle") this.state = { kind: "stopped" };
    await this.started?.catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private async run(signal: AbortSignal | undefined): Promise<void> {
    if (this.state.kind === "stopped" || signal?.aborted) {
      this.state = { kind: "stopped" };
      this.listening.reject(
        new PluginFrameworkError(status.CANCELLED, "admin server stopped before it started"),
      );
      return;
    }
    const onAbort = () => this.stopRequested.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    const logger = this.options.logger ?? quietLogger;
    const server = new Server();
    server.addService(
      AdminServiceService,
      createAdminService({
        registry: this.options.registry,
        allowCalls: this.options.allowCalls ?? true,
        defaultCallTimeoutMs: this.options.defaultCallTimeoutMs ?? 30_000,
        fileDescriptorSet: this.fileDescriptorSet,
        logger,
      }),
    );
    try {
      const socket = this.address.kind === "unix" ? this.address.path : undefined;
      if (socket) await removeStaleSocket(socket);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(
          formatListenAddress(this.address),
          ServerCredentials.createInsecure(),
          (err, bound) => (err ? reject(err) : resolve(bound)),
        ),
      );
      const address = formatListenAddress(this.address, port);
      this.state = { kind: "serving", server, address, socket };
      this.listening.resolve(address);
      logger.info({ address }, "admin server listening");
      await this.stopRequested.promise;
    } catch (err) {
      this.listening.reject(err);
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // In-flight admin calls (a watch, say) are cut: they are a person's terminal, not a plugin's work.
      server.forceShutdown();
      if (this.state.kind === "serving" && this.state.socket) await unlink(this.state.socket).catch(() => {});
      this.state = { kind: "stopped" };
    }
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
