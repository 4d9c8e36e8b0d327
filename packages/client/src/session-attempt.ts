import { type ClientDuplexStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type {
  PluginFrameworkServiceClient,
  PluginStreamMessage,
  ServiceDescriptor,
  Settings,
} from "@operator-plugin-framework/proto";
import {
  effectiveSettings,
  Liveness,
  PluginFrameworkError,
  PROTOCOL_REVISION,
  raceTimeout,
} from "@operator-plugin-framework/wire";
import { serveSeedCall } from "./seed-server-call.js";
import type { MethodHandler } from "./service-table.js";
import { type ServeLimits, TunnelDispatcher } from "./tunnel-dispatcher.js";

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
  handlers: ReadonlyMap<string, MethodHandler>;
  descriptors: ServiceDescriptor[];
  localSettings: Required<Settings>;
  limits: ServeLimits;
  host: string;
  /** Extra request headers on every plugin stream. */
  headers: Readonly<Record<string, string>>;
  /** Liveness pings to a revision-1 operator; interval 0 turns them off. */
  keepalive: { intervalMs: number; timeoutMs: number };
  onRegistered: (sessionId: string) => void;
  onDrain: () => void;
}

/**
 * One stream to the operator, from register to end. Speaks revision 1 when
 * the operator acknowledges, and the seed protocol when it sends `rpc_call`
 * instead (a seed operator never acknowledges).
 */
export class SessionAttempt {
  private stream: ClientDuplexStream<PluginStreamMessage, PluginStreamMessage> | undefined;
  private dispatcher: TunnelDispatcher | undefined;
  private registered = false;
  private drained = false;
  private seedCalls = 0;
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

  get inFlight(): number {
    return (this.dispatcher?.inFlight ?? 0) + this.seedCalls;
  }

  start(token: string | undefined): void {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(this.config.headers)) metadata.set(key, value);
    if (token) metadata.set("authorization", `Bearer ${token}`);
    const stream = this.client.pluginStream(metadata);
    this.stream = stream;
    stream.on("data", (message: PluginStreamMessage) => this.onMessage(message));
    stream.on("error", (err: ServiceError) => {
      const { code, details } = PluginFrameworkError.from(err);
      this.finish(code, details);
    });
    stream.on("status", (s: { code: status; details: string }) => this.finish(s.code, s.details));
    stream.on("end", () => this.finish(status.UNAVAILABLE, "operator ended the stream"));
    stream.write({
      payload: {
        $case: "register",
        value: {
          name: this.config.name,
          version: this.config.version,
          protocolRevision: PROTOCOL_REVISION,
          services: this.config.descriptors,
          settings: this.config.localSettings,
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
    if (this.dispatcher && !this.finished) {
      const acknowledged = new Promise<void>((resolve) => {
        this.onDrainAck = resolve;
      });
      this.stream?.write({
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
    this.dispatcher?.stopAccepting();
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
    if (this.dispatcher) await raceTimeout(this.dispatcher.scheduler.empty(), timeoutMs);
    this.stream?.end();
    await raceTimeout(this.done, deadline - Date.now());
    this.cancel();
  }

  private onMessage(message: PluginStreamMessage): void {
    this.liveness?.onActivity();
    const payload = message.payload;
    switch (payload?.$case) {
      case "registerAck": {
        // One acknowledgement per stream; a second one changes nothing.
        if (this.dispatcher) return;
        if (!payload.value.accepted) {
          this.finish(payload.value.code || status.PERMISSION_DENIED, payload.value.message);
          return;
        }
        const settings = {
          local: this.config.localSettings,
          peer: effectiveSettings(payload.value.settings),
        };
        this.dispatcher = new TunnelDispatcher(
          this.config.handlers,
          (out) => this.stream?.write(out) ?? false,
          settings,
          this.config.limits,
          "operator",
          this.config.host,
        );
        this.dispatcher.onIdle = () => this.checkIdle();
        if (!this.accepting) this.dispatcher.stopAccepting();
        this.liveness = new Liveness({
          ...this.config.keepalive,
          sendPing: (nonce) =>
            this.stream?.write({ payload: { $case: "ping", value: { nonce, ack: false } } }),
          onDead: (message) => {
            this.stream?.cancel();
            this.finish(status.UNAVAILABLE, `operator is unresponsive: ${message}`);
          },
        });
        this.liveness.start();
        this.stream?.on("drain", () => this.dispatcher?.scheduler.resume());
        this.markRegistered(payload.value.sessionId);
        return;
      }
      case "frames":
        try {
          this.dispatcher?.onFrames(payload.value.frames);
        } catch (err) {
          const { code, details } = PluginFrameworkError.from(err, status.INTERNAL);
          this.stream?.cancel();
          this.finish(code, details);
        }
        return;
      case "rpcCall":
        this.markRegistered("");
        this.seedCalls++;
        serveSeedCall(payload.value, this.config.handlers, (out) => {
          this.seedCalls--;
          this.stream?.write(out);
        });
        return;
      case "ping":
        if (!payload.value.ack)
          this.stream?.write({
            payload: { $case: "ping", value: { nonce: payload.value.nonce, ack: true } },
          });
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

  private markRegistered(sessionId: string): void {
    if (this.registered) return;
    this.registered = true;
    this.config.onRegistered(sessionId);
  }

  private finish(code: status, details: string): void {
    this.finished = true;
    this.liveness?.stop();
    this.dispatcher?.close();
    this.seedCalls = 0;
    this.checkIdle();
    this.resolveDone({ registered: this.registered, code, details, drained: this.drained });
  }
}
