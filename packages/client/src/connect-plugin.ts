import { EventEmitter } from "node:events";
import { type ChannelOptions, credentials, status } from "@grpc/grpc-js";
import { PluginFrameworkServiceClient } from "@operator-plugin-framework/proto";
import {
  DEFAULT_SETTINGS,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/proto/wire";
import { buildServiceTable, type ServiceEntry } from "./service-table.js";
import { type AttemptConfig, SessionAttempt } from "./session-attempt.js";
import { parseTarget } from "./target.js";
import { type TokenProvider, tokenProvider } from "./token.js";

/** Options of {@link connectPlugin}. */
export interface ConnectPluginOptions {
  /** The plugin's name: a DNS-1123 label the plugin's identity is authorized to register. */
  name: string;
  /** The plugin's version, shown in the operator's registry. Default "0.0.0". */
  version?: string;
  /** `https://host:port` (TLS), `http://host:port` or `unix:///path` (plaintext). */
  target: string;
  /** The services served: `[definition, implementation]` pairs, as for `grpc.Server.addService`. */
  services: readonly ServiceEntry[];
  /** A bearer token, or a provider asked on every connection attempt. Default: none. */
  token?: string | TokenProvider;
  /** A file holding the token, re-read on every attempt (rotated ServiceAccount tokens). Default: none. */
  tokenFile?: string;
  /** TLS settings for `https://` targets. Default: system roots, the target's host name. */
  tls?: { ca?: string | Buffer; serverName?: string };
  /**
   * Send the token over plaintext TCP to a host that is not loopback.
   * Default false: refused, since anyone on the path could replay it.
   */
  allowInsecureToken?: boolean;
  /** Reconnection backoff: full jitter over capped exponential growth. Defaults 100 ms, 10 s, 2. */
  backoff?: { initialMs?: number; maxMs?: number; multiplier?: number };
  /** Largest message accepted from the operator. Default 4 MiB. */
  maxReceiveMessageSize?: number;
  /** Largest message sent to the operator. Default 4 MiB. */
  maxSendMessageSize?: number;
  /** Calls served at once. Default 1000. */
  maxConcurrentStreams?: number;
  /** On close, time in-flight calls have to finish. Default 10 000 ms. */
  drainGraceMs?: number;
  /** Closes the connection when aborted. */
  signal?: AbortSignal;
  /** Extra grpc-js channel options. Default none. */
  grpcOptions?: ChannelOptions;
  /** Where the client logs. Default: quiet. */
  logger?: Logger;
}

/** The connection's state, as `state` events report it. */
export type ConnectionState =
  | { state: "connecting"; attempt: number }
  | { state: "registered"; sessionId: string }
  | { state: "reconnecting"; delayMs: number; code: status; details: string }
  | { state: "rejected"; code: status; details: string; delayMs: number }
  | { state: "closed" };

/** A plugin's connection to its operator; see {@link connectPlugin}. */
export interface PluginConnection extends AsyncDisposable {
  /** The latest state. */
  readonly state: ConnectionState;
  /** Subscribes to state changes; returns the unsubscribe function. */
  onState(listener: (state: ConnectionState) => void): () => void;
  /** Resolves the next time (or now, if) the plugin is registered. Rejects once closed. */
  registered(): Promise<void>;
  /** Stops reconnecting, lets in-flight calls finish within the grace period, and disconnects. */
  close(): Promise<void>;
}

const PERMANENT = new Set<status>([status.PERMISSION_DENIED, status.INVALID_ARGUMENT, status.UNIMPLEMENTED]);

/**
 * Connects a plugin to its operator and serves its services through the
 * plugin stream, reconnecting until closed.
 *
 * @example
 * const connection = connectPlugin({
 *   name: "aws", target: "https://operator:8443", tokenFile: "/var/run/secrets/tokens/plugin",
 *   services: [[GreeterServiceService, greeterImpl]],
 * });
 * await connection.registered();
 */
export function connectPlugin(options: ConnectPluginOptions): PluginConnection {
  const target = parseTarget(options.target);
  const tokens = tokenProvider(options.token, options.tokenFile);
  if (tokens && !target.tls && !target.local && !options.allowInsecureToken) {
    throw new PluginFrameworkError(
      status.FAILED_PRECONDITION,
      `refusing to send a token over plaintext to ${target.host}; use https:// or set allowInsecureToken`,
    );
  }
  const logger = options.logger ?? quietLogger;
  const { handlers, descriptors } = buildServiceTable(options.services);
  const maxReceive = options.maxReceiveMessageSize ?? DEFAULT_SETTINGS.maxMessageSize;
  const config: AttemptConfig = {
    name: options.name,
    version: options.version ?? "0.0.0",
    handlers,
    descriptors,
    localSettings: {
      ...DEFAULT_SETTINGS,
      maxMessageSize: maxReceive,
      maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams,
    },
    limits: {
      maxReceiveMessageSize: maxReceive,
      maxSendMessageSize: options.maxSendMessageSize ?? DEFAULT_SETTINGS.maxMessageSize,
      maxConcurrentStreams: options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams,
    },
    host: target.host,
    onRegistered: (sessionId) => setState({ state: "registered", sessionId }),
    onDrain: () => wake(),
  };
  const channelOptions: ChannelOptions = {
    "grpc.max_receive_message_length": maxReceive + 1024 * 1024,
    "grpc.max_send_message_length": -1,
    ...(options.tls?.serverName ? { "grpc.ssl_target_name_override": options.tls.serverName } : {}),
    ...options.grpcOptions,
  };
  const channelCredentials = target.tls
    ? credentials.createSsl(options.tls?.ca ? Buffer.from(options.tls.ca) : null)
    : credentials.createInsecure();
  const client = new PluginFrameworkServiceClient(target.grpcTarget, channelCredentials, channelOptions);
  const events = new EventEmitter();
  let current: ConnectionState = { state: "connecting", attempt: 1 };
  let closed = false;
  let wake: () => void = () => {};
  const attempts = new Set<SessionAttempt>();

  function setState(next: ConnectionState): void {
    current = next;
    logger.info({ plugin: options.name, ...next }, `plugin connection ${next.state}`);
    events.emit("state", next);
  }

  async function run(): Promise<void> {
    const backoff = { initialMs: 100, maxMs: 10_000, multiplier: 2, ...options.backoff };
    let failures = 0;
    while (!closed) {
      setState({ state: "connecting", attempt: failures + 1 });
      const attempt = new SessionAttempt(client, config);
      attempts.add(attempt);
      let drained = false;
      const drainedSignal = new Promise<void>((resolve) => {
        wake = () => {
          drained = true;
          resolve();
        };
      });
      try {
        attempt.start(tokens ? await tokens.getToken() : undefined);
      } catch (err) {
        attempts.delete(attempt);
        const error = err as PluginFrameworkError;
        failures++;
        const delayMs = jitter(backoff, failures);
        setState({
          state: "reconnecting",
          delayMs,
          code: error.code ?? status.UNKNOWN,
          details: error.details ?? String(err),
        });
        await sleep(delayMs);
        continue;
      }
      await Promise.race([attempt.done, drainedSignal]);
      if (drained) {
        // The operator is going away: serve the open calls on the old stream,
        // and register again at once (elsewhere, if the target has several addresses).
        void retire(attempt);
        failures = 0;
        continue;
      }
      attempts.delete(attempt);
      const result = await attempt.done;
      if (closed) break;
      failures = result.registered ? 1 : failures + 1;
      // Only a refused registration is a rejection; a broken session is retried.
      const permanent = !result.registered && PERMANENT.has(result.code);
      const delayMs = permanent ? backoff.maxMs : jitter(backoff, failures);
      setState(
        permanent
          ? { state: "rejected", code: result.code, details: result.details, delayMs }
          : { state: "reconnecting", code: result.code, details: result.details, delayMs },
      );
      await sleep(delayMs);
    }
  }

  async function retire(attempt: SessionAttempt): Promise<void> {
    await waitIdle(attempt, options.drainGraceMs ?? 10_000);
    attempt.end();
    await attempt.done;
    attempts.delete(attempt);
  }

  let sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  function sleep(ms: number): Promise<void> {
    if (closed) return Promise.resolve();
    return new Promise((resolve) => {
      sleeper = { timer: setTimeout(resolve, ms), resolve };
    });
  }

  const running = run().catch((err) => logger.error({ error: String(err) }, "plugin connection loop failed"));

  let closing: Promise<void> | undefined;
  const connection: PluginConnection = {
    get state() {
      return current;
    },
    onState(listener) {
      events.on("state", listener);
      return () => events.off("state", listener);
    },
    registered() {
      if (current.state === "registered") return Promise.resolve();
      return new Promise((resolve, reject) => {
        const off = connection.onState((state) => {
          if (state.state === "registered") {
            off();
            resolve();
          } else if (state.state === "closed") {
            off();
            reject(new PluginFrameworkError(status.CANCELLED, "plugin connection closed"));
          }
        });
      });
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (sleeper) {
          clearTimeout(sleeper.timer);
          sleeper.resolve();
        }
        wake();
        const grace = options.drainGraceMs ?? 10_000;
        await Promise.all(
          [...attempts].map(async (attempt) => {
            await waitIdle(attempt, grace);
            attempt.end();
            attempt.cancel();
          }),
        );
        await running;
        client.close();
        setState({ state: "closed" });
        events.removeAllListeners();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return connection.close();
    },
  };
  options.signal?.addEventListener("abort", () => void connection.close(), { once: true });
  return connection;
}

function jitter(backoff: { initialMs: number; maxMs: number; multiplier: number }, failures: number): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, failures - 1));
  return Math.round(Math.random() * cap);
}

async function waitIdle(attempt: SessionAttempt, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (attempt.inFlight > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(20, deadline - Date.now())));
  }
}
