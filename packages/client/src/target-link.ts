import { type ChannelCredentials, type ChannelOptions, connectivityState, status } from "@grpc/grpc-js";
import type { PluginFrameworkServiceClient } from "@operator-plugin-framework/proto";
import { PluginFrameworkError, PluginStreamClient, raceTimeout } from "@operator-plugin-framework/wire";
import { type Backoff, createReconnectSchedule } from "./backoff.js";
import { explainHttpStatus } from "./explain-http-status.js";
import type { HostRoute } from "./host-router.js";
import { type AttemptConfig, SessionAttempt } from "./session-attempt.js";
import { dialTarget } from "./target.js";
import type { TokenProvider } from "./token.js";

/** A state change of one link, as the connection reports it. */
export type LinkState =
  | { state: "connecting"; attempt: number }
  | { state: "registered"; sessionId: string }
  | { state: "reconnecting"; delayMs: number; code: status; details: string }
  | { state: "rejected"; code: status; details: string; delayMs: number }
  | { state: "closed" };

// A refused registration; retried at the slowest pace, never in a hot loop.
const PERMANENT = new Set<status>([status.PERMISSION_DENIED, status.INVALID_ARGUMENT, status.UNIMPLEMENTED]);

export interface TargetLinkOptions {
  grpcTarget: string;
  credentials: ChannelCredentials;
  channelOptions: ChannelOptions;
  attempt: Omit<AttemptConfig, "onRegistered" | "onDrain" | "onHostCapacity">;
  tokens: TokenProvider | undefined;
  backoff: Backoff;
  drainGraceMs: number;
  onState: (state: LinkState) => void;
  /** The current session can take host calls it could not before. */
  onHostCapacity: () => void;
}

/**
 * One operator address and the plugin's session with it, kept up until
 * closed: register, serve, and on any end reconnect with backoff, reading
 * the token again each time. A drain from the operator re-registers at once
 * while the old stream finishes its calls.
 */
export class TargetLink {
  private client: PluginFrameworkServiceClient;
  private readonly attempts = new Set<SessionAttempt>();
  /** The newest attempt: the one new host calls go to (a drained one only finishes its calls). */
  private current: SessionAttempt | undefined;
  private closed = false;
  private wake: () => void = () => {};
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private readonly running: Promise<void>;
  registered = false;

  constructor(private readonly options: TargetLinkOptions) {
    this.client = this.createClient();
    this.running = this.run();
  }

  /** The generic client with the fast codec: same service, same wire format. */
  private createClient(): PluginFrameworkServiceClient {
    const { grpcTarget, credentials, channelOptions } = this.options;
    // channelz registers every channel, subchannel and socket in a
    // process-wide table: a cost per plugin for a debugging interface no one
    // serves here. The caller's grpcOptions may turn it back on.
    return new PluginStreamClient(dialTarget(grpcTarget), credentials, {
      "grpc.enable_channelz": 0,
      ...channelOptions,
    }) as unknown as PluginFrameworkServiceClient;
  }

  /**
   * A grpc-js channel that failed to connect stays in TRANSIENT_FAILURE and
   * reconnects on its own backoff (×1.6 up to `maxMs`); until then a call
   * fails at once without trying. After an operator restart that backoff,
   * not ours, decided when a plugin came back. An attempt on such a channel
   * gets a fresh one, which connects now. Not while a drained stream is
   * retiring: it may still run on a connection the operator sent GOAWAY on,
   * and closing the channel would cut its calls.
   */
  private freshChannelIfFailed(): void {
    if (this.attempts.size > 0) return;
    if (this.client.getChannel().getConnectivityState(false) !== connectivityState.TRANSIENT_FAILURE) return;
    this.client.close();
    this.client = this.createClient();
  }

  /** Stops reconnecting; in-flight calls get `graceMs` to finish; then disconnects. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
    }
    this.wake();
    await Promise.all(
      [...this.attempts].map(async (attempt) => {
        await attempt.leave(graceMs);
        await attempt.endGracefully(1_000);
      }),
    );
    await this.running;
    this.client.close();
    this.setState({ state: "closed" });
  }

  /** The current session while it is registered, for host calls; undefined otherwise. */
  get hostRoute(): HostRoute | undefined {
    const attempt = this.current;
    const revision = attempt?.revision;
    if (this.closed || revision === undefined) return undefined;
    return { target: this.options.grpcTarget, revision, hostStreams: attempt!.hostStreams };
  }

  private setState(state: LinkState): void {
    this.registered = state.state === "registered";
    this.options.onState(state);
  }

  private async run(): Promise<void> {
    const { backoff } = this.options;
    const schedule = createReconnectSchedule({ backoff });
    while (!this.closed) {
      this.setState({ state: "connecting", attempt: schedule.failures + 1 });
      let drained = false;
      let onDrained: () => void = () => {};
      const drainedSignal = new Promise<void>((resolve) => {
        onDrained = () => {
          drained = true;
          resolve();
        };
      });
      // close() wakes the current attempt; a drain wakes only the attempt it arrived on,
      // so a late drain on an already retired stream cannot retire its successor.
      this.wake = onDrained;
      this.freshChannelIfFailed();
      const attempt = new SessionAttempt(this.client, {
        ...this.options.attempt,
        onRegistered: (sessionId) => {
          schedule.registered();
          this.setState({ state: "registered", sessionId });
        },
        onDrain: onDrained,
        onHostCapacity: this.options.onHostCapacity,
      });
      this.attempts.add(attempt);
      this.current = attempt;
      try {
        attempt.start(this.options.tokens ? await this.options.tokens.getToken() : undefined);
      } catch (err) {
        this.attempts.delete(attempt);
        const { code, details } = PluginFrameworkError.from(err);
        const delayMs = schedule.ended();
        this.setState({ state: "reconnecting", delayMs, code, details });
        await this.sleep(delayMs);
        continue;
      }
      await Promise.race([attempt.done, drainedSignal]);
      if (drained && !this.closed) {
        // The operator is going away: finish the open calls on the old
        // stream, and register again soon, spread with the rest of the fleet.
        void this.retire(attempt);
        await this.sleep(schedule.drained());
        continue;
      }
      if (this.closed) break;
      this.attempts.delete(attempt);
      const result = await attempt.done;
      // A healthy session that ended is retried within a few hundred ms; failures back off.
      const backoffMs = schedule.ended();
      // A proxy's plain HTTP refusal becomes the status to act on, with what to check.
      const { code, details } = explainHttpStatus(result.code, result.details, this.options.grpcTarget);
      // Only a refused registration is a rejection; a broken session is retried.
      const permanent = !result.registered && PERMANENT.has(code);
      const delayMs = permanent ? backoff.maxMs : backoffMs;
      this.setState(
        permanent
          ? { state: "rejected", code, details, delayMs }
          : { state: "reconnecting", code, details, delayMs },
      );
      await this.sleep(delayMs);
    }
  }

  /**
   * A drained stream keeps serving (the operator stops routing calls to it
   * once the new session is registered) until the operator ends it; after
   * the grace period the plugin ends it itself.
   */
  private async retire(attempt: SessionAttempt): Promise<void> {
    await raceTimeout(attempt.done, this.options.drainGraceMs);
    await attempt.leave(1_000);
    await attempt.endGracefully(1_000);
    this.attempts.delete(attempt);
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleeper = {
        timer: setTimeout(() => {
          this.sleeper = undefined;
          resolve();
        }, ms),
        resolve,
      };
    });
  }
}
