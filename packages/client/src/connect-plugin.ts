import { lookup } from "node:dns/promises";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import { type ChannelOptions, credentials, status } from "@grpc/grpc-js";
import { assertTokenTransportAllowed } from "@operator-plugin-framework/auth/token";
import {
  DEFAULT_SETTINGS,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
import { buildServiceTable, type ServiceEntry } from "./service-table.js";
import type { AttemptConfig } from "./session-attempt.js";
import { type ParsedTarget, parseTarget } from "./target.js";
import { type LinkState, TargetLink, type TargetLinkOptions } from "./target-link.js";
import { type TokenProvider, tokenProvider } from "./token.js";

/** Options of {@link connectPlugin}. */
export interface ConnectPluginOptions {
  /** The plugin's name: a DNS-1123 label the plugin's identity is authorized to register. */
  name: string;
  /** The plugin's version, shown in the operator's registry. Default "0.0.0". */
  version?: string;
  /**
   * Where the operator is: `https://host:port` (TLS), `http://host:port`,
   * `unix:///path`, or `dns+https://name:port` for one session per address
   * the name resolves to (every replica behind a headless Service). Several
   * targets give one session each.
   */
  target: string | readonly string[];
  /** The services served: `[definition, implementation]` pairs, as for `grpc.Server.addService`. */
  services: readonly ServiceEntry[];
  /** A bearer token, or a provider asked on every connection attempt. Default: none. */
  token?: string | TokenProvider;
  /** A file holding the token, re-read on every attempt (rotated ServiceAccount tokens). Default: none. */
  tokenFile?: string;
  /** Extra request headers sent when the plugin stream opens. Default: none. */
  headers?: Readonly<Record<string, string>>;
  /** TLS settings for `https://` targets. Default: system roots, the target's host name. */
  tls?: { ca?: string | Buffer; serverName?: string };
  /**
   * Send the token over plaintext TCP to a host that is not loopback.
   * Default false: refused, since anyone on the path could replay it.
   */
  allowInsecureToken?: boolean;
  /** Reconnection backoff: full jitter over capped exponential growth. Defaults 100 ms, 10 s, ×2. */
  backoff?: { initialMs?: number; maxMs?: number; multiplier?: number };
  /** Liveness pings to the operator; the session is dropped when one is not answered. Defaults 10 000 / 20 000 ms; 0 turns them off. */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /** Resolves a `dns+` target's name to addresses. Default: the system resolver, every address. */
  resolve?: (host: string) => Promise<string[]>;
  /** How often a `dns+` target is resolved again. Default 30 000 ms. */
  resolveIntervalMs?: number;
  /** Largest message accepted from the operator. Default 4 MiB. */
  maxReceiveMessageSize?: number;
  /** Largest message sent to the operator. Default 4 MiB. */
  maxSendMessageSize?: number;
  /** Calls served at once per session. Default 1000. */
  maxConcurrentStreams?: number;
  /** On close or drain, time in-flight calls have to finish. Default 10 000 ms. */
  drainGraceMs?: number;
  /** Closes the connection when aborted. */
  signal?: AbortSignal;
  /** Extra grpc-js channel options. Default none. */
  grpcOptions?: ChannelOptions;
  /** Where the client logs. Default: quiet. Tokens are never logged. */
  logger?: Logger;
}

/** A state change of the connection to one operator address. */
export type ConnectionState = LinkState & { target: string };

/** A plugin's connection to its operator(s); see {@link connectPlugin}. */
export interface PluginConnection extends AsyncDisposable {
  /** The latest state change, of whichever operator address changed last. */
  readonly state: ConnectionState;
  /** The latest state of every operator address. */
  readonly states: ReadonlyMap<string, ConnectionState>;
  /** True when at least one session is registered. */
  readonly isRegistered: boolean;
  /** Subscribes to state changes; returns the unsubscribe function. */
  onState(listener: (state: ConnectionState) => void): () => void;
  /** State changes as an async iterable, until the connection closes. */
  watch(): AsyncIterable<ConnectionState>;
  /** Resolves once (or now, if) a session is registered. Rejects once closed. */
  registered(): Promise<void>;
  /** Stops reconnecting, lets in-flight calls finish within the grace period, and disconnects. */
  close(): Promise<void>;
}

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
  const targets = (typeof options.target === "string" ? [options.target] : [...options.target]).map(
    parseTarget,
  );
  if (targets.length === 0)
    throw new PluginFrameworkError(status.INVALID_ARGUMENT, "connectPlugin needs at least one target");
  const tokens = tokenProvider(options.token, options.tokenFile);
  if (tokens) {
    for (const target of targets) {
      assertTokenTransportAllowed({
        target: target.grpcTarget,
        tls: target.tls,
        allowInsecureToken: options.allowInsecureToken,
      });
    }
  }

  const logger = options.logger ?? quietLogger;
  const attempt = attemptConfig(options);
  const backoff = { initialMs: 100, maxMs: 10_000, multiplier: 2, ...options.backoff };
  const events = new EventEmitter();
  const states = new Map<string, ConnectionState>();
  const links = new Map<string, TargetLink>();
  const resolvedFrom = new Map<string, string>();
  const drainGraceMs = options.drainGraceMs ?? 10_000;
  let closed = false;
  let latest: ConnectionState = { state: "connecting", attempt: 1, target: targets[0]!.grpcTarget };
  let resolveTimer: NodeJS.Timeout | undefined;

  const linkOptions = (target: ParsedTarget, grpcTarget: string): TargetLinkOptions => ({
    grpcTarget,
    credentials: target.tls
      ? credentials.createSsl(options.tls?.ca ? Buffer.from(options.tls.ca) : null)
      : credentials.createInsecure(),
    channelOptions: channelOptions(options, target, attempt, backoff),
    attempt,
    tokens,
    backoff,
    drainGraceMs,
    onState: (state) => {
      const next = { ...state, target: grpcTarget };
      if (state.state === "closed") states.delete(grpcTarget);
      else states.set(grpcTarget, next);
      latest = next;
      logger.info({ plugin: options.name, ...next }, `plugin connection ${state.state}`);
      events.emit("state", next);
    },
  });

  const addLink = (target: ParsedTarget, grpcTarget: string) => {
    if (!links.has(grpcTarget)) links.set(grpcTarget, new TargetLink(linkOptions(target, grpcTarget)));
  };

  async function resolveTargets(): Promise<void> {
    const resolve =
      options.resolve ?? (async (host: string) => (await lookup(host, { all: true })).map((a) => a.address));
    for (const target of targets.filter((t) => t.resolveAll)) {
      let addresses: string[];
      try {
        addresses = await resolve(target.host);
      } catch (err) {
        logger.warn(
          { host: target.host, error: String(err) },
          "resolving the operator's addresses failed; keeping the current ones",
        );
        continue;
      }
      if (closed) return;
      const source = `${target.host}:${target.port}`;
      const wanted = new Set(addresses.map((ip) => `${isIP(ip) === 6 ? `[${ip}]` : ip}:${target.port}`));
      for (const address of wanted) {
        addLink(target, address);
        resolvedFrom.set(address, source);
      }
      // An operator replica that left: let its open calls finish, then drop it.
      for (const [address, host] of resolvedFrom) {
        if (host !== source || wanted.has(address)) continue;
        resolvedFrom.delete(address);
        const link = links.get(address);
        links.delete(address);
        void link?.close(drainGraceMs);
      }
    }
    if (!closed) resolveTimer = setTimeout(() => void resolveTargets(), options.resolveIntervalMs ?? 30_000);
  }

  for (const target of targets) if (!target.resolveAll) addLink(target, target.grpcTarget);
  if (targets.some((t) => t.resolveAll)) void resolveTargets();

  let closing: Promise<void> | undefined;
  const connection: PluginConnection = {
    get state() {
      return latest;
    },
    states,
    get isRegistered() {
      return [...links.values()].some((link) => link.registered);
    },
    onState(listener) {
      events.on("state", listener);
      return () => events.off("state", listener);
    },
    async *watch() {
      const queue: ConnectionState[] = [];
      let wake: (() => void) | undefined;
      const off = connection.onState((state) => {
        queue.push(state);
        wake?.();
      });
      try {
        while (!closed || queue.length > 0) {
          const next = queue.shift();
          if (next) yield next;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        off();
      }
    },
    registered() {
      if (connection.isRegistered) return Promise.resolve();
      if (closed)
        return Promise.reject(new PluginFrameworkError(status.CANCELLED, "plugin connection closed"));
      return new Promise((resolve, reject) => {
        const off = connection.onState((state) => {
          if (state.state === "registered") {
            off();
            resolve();
          } else if (closed) {
            off();
            reject(new PluginFrameworkError(status.CANCELLED, "plugin connection closed"));
          }
        });
      });
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (resolveTimer) clearTimeout(resolveTimer);
        await Promise.all([...links.values()].map((link) => link.close(drainGraceMs)));
        links.clear();
        latest = { state: "closed", target: "" };
        events.emit("state", latest);
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

function attemptConfig(options: ConnectPluginOptions): Omit<AttemptConfig, "onRegistered" | "onDrain"> {
  const { handlers, descriptors } = buildServiceTable(options.services);
  const maxReceive = options.maxReceiveMessageSize ?? DEFAULT_SETTINGS.maxMessageSize;
  const maxConcurrent = options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams;
  return {
    name: options.name,
    version: options.version ?? "0.0.0",
    handlers,
    descriptors,
    localSettings: { ...DEFAULT_SETTINGS, maxMessageSize: maxReceive, maxConcurrentStreams: maxConcurrent },
    limits: {
      maxReceiveMessageSize: maxReceive,
      maxSendMessageSize: options.maxSendMessageSize ?? DEFAULT_SETTINGS.maxMessageSize,
      maxConcurrentStreams: maxConcurrent,
    },
    host: "operator",
    headers: options.headers ?? {},
    keepalive: { intervalMs: 10_000, timeoutMs: 20_000, ...options.keepalive },
  };
}

function channelOptions(
  options: ConnectPluginOptions,
  target: ParsedTarget,
  { keepalive, limits }: Pick<AttemptConfig, "keepalive" | "limits">,
  backoff: { initialMs: number; maxMs: number },
): ChannelOptions {
  const serverName = options.tls?.serverName ?? (target.resolveAll && target.tls ? target.host : undefined);
  return {
    "grpc.max_receive_message_length": limits.maxReceiveMessageSize + 1024 * 1024,
    "grpc.max_send_message_length": -1,
    // Our own backoff decides when to reconnect; grpc-js's (1 s growing to
    // 120 s, shared across clients of a target) must not add to it.
    "grpc.initial_reconnect_backoff_ms": Math.max(1, backoff.initialMs),
    "grpc.max_reconnect_backoff_ms": Math.max(1, backoff.maxMs),
    "grpc.use_local_subchannel_pool": 1,
    ...(serverName
      ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName }
      : {}),
    ...(keepalive.intervalMs > 0
      ? {
          "grpc.keepalive_time_ms": keepalive.intervalMs,
          "grpc.keepalive_timeout_ms": keepalive.timeoutMs,
          "grpc.keepalive_permit_without_calls": 1,
        }
      : {}),
    ...options.grpcOptions,
  };
}
