import { type ClientDuplexStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type {
  PluginFrameworkServiceClient,
  PluginStreamMessage,
  RegisterAck,
  ServiceDescriptor,
  Settings,
} from "@operator-plugin-framework/proto";
import {
  DEFAULT_SETTINGS,
  effectiveSettings,
  FrameScheduler,
  HOST_SERVICES_REVISION,
  Liveness,
  type MethodHandler,
  PluginFrameworkError,
  raceTimeout,
  SESSION_MAX_UNWRITTEN_BYTES,
  type SessionObserver,
} from "@operator-plugin-framework/wire";
import { HostStreams } from "./host-streams.js";
import { SeedSession } from "./seed-session.js";
import { type ServeLimits, TunnelSession } from "./tunnel-session.js";

/** How one attempt ended. */
export interface AttemptResult {
  /** True if the operator admitted the plugin during this attempt. */
  registered: boolean;
  code: status;
  details: string;
  /** True when the operator asked us to reconnect (drain). */
  drained: boolean;
}

export interface AttemptConfig {
  name: string;
  version: string;
  /** Announced at register; the operator checks them. */
  labels: Readonly<Record<string, string>>;
  handlers: ReadonlyMap<string, MethodHandler>;
  descriptors: ServiceDescriptor[];
  /** A serialized FileDescriptorSet of the services, or empty: announced at register, for tools. */
  fileDescriptorSet: Buffer;
  localSettings: Required<Settings>;
  limits: ServeLimits;
  host: string;
  /** Extra request headers on every plugin stream. */
  headers: Readonly<Record<string, string>>;
  /** Liveness pings to a revision-1 operator; interval 0 turns them off. */
  keepalive: { intervalMs: number; timeoutMs: number };
  /** The observer of one session's calls (metrics, tracing); a no-op unless either is on. */
  calls: (sessionId: string) => SessionObserver;
  onRegistered: (sessionId: string) => void;
  onDrain: () => void;
  /** The session can take host calls it could not before: it registered at revision 2, or a host stream ended. */
  onHostCapacity: () => void;
}

/**
 * One stream to the operator, from register to end. Announces revision 2;
 * speaks the tunnel (a {@link TunnelSession}) when the operator acknowledges,
 * with host calls ({@link HostStreams}) when the acknowledged revision is 2,
 * and the seed protocol (a {@link SeedSession}) when it sends `rpc_call`
 * instead, since a seed operator never acknowledges.
 *
 * Everything the plugin sends on the stream, from the registration to ping
 * answers and the drain, goes through one {@link FrameScheduler}, so it leaves
 * in the order it was queued.
 */
export class SessionAttempt {
  private stream: ClientDuplexStream<PluginStreamMessage, PluginStreamMessage> | undefined;
  private scheduler: FrameScheduler | undefined;
  private tunnel: TunnelSession | undefined;
  private seed: SeedSession | undefined;
  private host: HostStreams | undefined;
  private registered = false;
  /** The revision the operator acknowledged: 0 for a seed operator; undefined until registered. */
  private ackRevision: number | undefined;
  private drained = false;
  private accepting = true;
  private finished = false;
  private onDrainAck: () => void = () => {};
  private liveness: Liveness | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly done: Promise<AttemptResult>;
  private resolveDone!: (result: AttemptResult) => void;

  constructor(
    private readonly client: PluginFrameworkServiceClient,
    private readonly config: AttemptConfig,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Calls open on this stream now. */
  get inFlight(): number {
    return (this.tunnel?.inFlight ?? 0) + (this.seed?.inFlight ?? 0) + (this.host?.inFlight ?? 0);
  }

  /** The acknowledged revision while registered and not ended; undefined otherwise. */
  get revision(): number | undefined {
    return this.finished ? undefined : this.ackRevision;
  }

  /** Where host calls go on this session: present while registered at revision 2. */
  get hostStreams(): HostStreams | undefined {
    return this.finished ? undefined : this.host;
  }

  start(token: string | undefined): void {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(this.config.headers)) metadata.set(key, value);
    if (token) metadata.set("authorization", `Bearer ${token}`);
    const stream = this.client.pluginStream(metadata);
    this.stream = stream;
    // The quantum is fairness only (chunks follow the operator's max_chunk_size); the
    // default chunk size gives each call one full chunk per turn, as the operator does.
    const scheduler = new FrameScheduler({
      write: (message, onWritten) => stream.write(message, onWritten),
      maxUnwrittenBytes: SESSION_MAX_UNWRITTEN_BYTES,
      quantum: DEFAULT_SETTINGS.maxChunkSize,
      onControlOverflow: (message) => {
        this.stream?.cancel();
        this.finish(status.RESOURCE_EXHAUSTED, `operator was cut off: ${message}`);
      },
    });
    this.scheduler = scheduler;
    stream.on("drain", () => scheduler.resume());
    stream.on("data", (message: PluginStreamMessage) => this.onMessage(message));
    stream.on("error", (err: ServiceError) => {
      const { code, details } = PluginFrameworkError.from(err);
      this.finish(code, details);
    });
    stream.on("status", (s: { code: status; details: string }) => this.finish(s.code, s.details));
    stream.on("end", () => this.finish(status.UNAVAILABLE, "operator ended the stream"));
    scheduler.sendMessage({
      payload: {
        $case: "register",
        value: {
          name: this.config.name,
          version: this.config.version,
          protocolRevision: HOST_SERVICES_REVISION,
          services: this.config.descriptors,
          settings: this.config.localSettings,
          labels: { ...this.config.labels },
          fileDescriptorSet: this.config.fileDescriptorSet,
        },
      },
    });
  }

  /**
   * Leaves gracefully: tells a revision-1 operator to route no new calls
   * here and waits (up to `graceMs`) for its acknowledgement, which comes in
   * order after every call it already sent; then waits for the open calls to
   * finish. A seed operator cannot be told, so new calls are refused at once.
   */
  async leave(graceMs: number): Promise<void> {
    const graceEnds = Date.now() + graceMs;
    if (this.tunnel && !this.finished) {
      const acknowledged = new Promise<void>((resolve) => {
        this.onDrainAck = resolve;
      });
      this.scheduler?.sendMessage({
        payload: { $case: "drain", value: { reason: "plugin is shutting down", graceMs, ack: false } },
      });
      // An operator that does not answer within 2 s is broken or swamped:
      // refuse new calls from then on instead of waiting out the whole grace.
      await raceTimeout(Promise.race([acknowledged, this.done]), Math.min(graceMs, 2_000));
    }
    this.stopAccepting();
    await raceTimeout(this.idle(), graceEnds - Date.now());
  }

  /** New calls are refused from now on; open ones go on. */
  stopAccepting(): void {
    this.accepting = false;
    this.tunnel?.stopAccepting();
    this.seed?.stopAccepting();
  }

  /** Resolves when no call is open. */
  private idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.inFlight > 0) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Ends the stream now: open calls are cancelled. */
  cancel(): void {
    this.stream?.cancel();
    this.finish(status.CANCELLED, "plugin closed the connection");
  }

  /**
   * Ends the stream the polite way: every queued frame goes out first (the
   * status of the last call, say), then the half-close; the operator answers
   * by ending its side. Cancels if that takes longer than `timeoutMs`.
   */
  async endGracefully(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.scheduler) await raceTimeout(this.scheduler.empty(), timeoutMs);
    this.stream?.end();
    await raceTimeout(this.done, deadline - Date.now());
    this.cancel();
  }

  private onMessage(message: PluginStreamMessage): void {
    this.liveness?.onActivity();
    const payload = message.payload;
    switch (payload?.$case) {
      case "registerAck":
        // One acknowledgement per stream; a second one changes nothing.
        if (this.tunnel) return;
        if (!payload.value.accepted) {
          this.finish(payload.value.code || status.PERMISSION_DENIED, payload.value.message);
          return;
        }
        this.openTunnel(payload.value);
        return;
      case "frames":
        try {
          this.tunnel?.onFrames(payload.value.frames);
        } catch (err) {
          const { code, details } = PluginFrameworkError.from(err, status.INTERNAL);
          this.stream?.cancel();
          this.finish(code, details);
        }
        return;
      case "rpcCall":
        this.ackRevision ??= 0;
        this.markRegistered("");
        this.openSeed().onRpcCall(payload.value);
        return;
      case "ping":
        if (!payload.value.ack) {
          this.scheduler?.sendMessage({
            payload: { $case: "ping", value: { nonce: payload.value.nonce, ack: true } },
          });
        }
        return;
      case "drain":
        if (payload.value.ack) {
          this.onDrainAck();
          return;
        }
        this.drained = true;
        this.config.onDrain();
        return;
      default:
        return;
    }
  }

  private openTunnel(ack: RegisterAck): void {
    const scheduler = this.scheduler!;
    const settings = { local: this.config.localSettings, peer: effectiveSettings(ack.settings) };
    // Only at revision 2 do even stream ids belong to the plugin; below it the operator uses them all.
    if (ack.protocolRevision >= HOST_SERVICES_REVISION) {
      const host = new HostStreams(
        scheduler,
        settings,
        this.config.limits.maxReceiveMessageSize,
        ack.hostServices,
      );
      host.onIdle = () => this.checkIdle();
      host.onSlotFree = this.config.onHostCapacity;
      this.host = host;
    }
    this.ackRevision = ack.protocolRevision;
    const tunnel = new TunnelSession(
      this.config.handlers,
      scheduler,
      settings,
      this.config.limits,
      "operator",
      this.config.host,
      this.host,
    );
    tunnel.observer = this.config.calls(ack.sessionId);
    this.tunnel = tunnel;
    tunnel.onIdle = () => this.checkIdle();
    if (!this.accepting) tunnel.stopAccepting();
    this.liveness = new Liveness({
      ...this.config.keepalive,
      sendPing: (nonce) =>
        scheduler.sendMessage({ payload: { $case: "ping", value: { nonce, ack: false } } }),
      onDead: (message) => {
        this.stream?.cancel();
        this.finish(status.UNAVAILABLE, `operator is unresponsive: ${message}`);
      },
    });
    this.liveness.start();
    this.markRegistered(ack.sessionId);
    if (this.host) this.config.onHostCapacity();
  }

  private openSeed(): SeedSession {
    if (this.seed) return this.seed;
    const seed = new SeedSession(this.config.handlers, this.scheduler!);
    this.seed = seed;
    seed.onIdle = () => this.checkIdle();
    if (!this.accepting) seed.stopAccepting();
    return seed;
  }

  private markRegistered(sessionId: string): void {
    if (this.registered) return;
    this.registered = true;
    this.config.onRegistered(sessionId);
  }

  private finish(code: status, details: string): void {
    this.finished = true;
    this.liveness?.stop();
    this.tunnel?.close();
    this.seed?.close();
    this.host?.close(status.UNAVAILABLE, `the operator session ended: ${details}`);
    this.scheduler?.close();
    this.checkIdle();
    this.resolveDone({ registered: this.registered, code, details, drained: this.drained });
  }
}
