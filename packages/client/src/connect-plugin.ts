import { type ChannelOptions, credentials, status } from "@grpc/grpc-js";
import { assertTokenTransportAllowed } from "@operator-plugin-framework/auth/token";
import {
  buildServiceTable,
  composeCallObservers,
  composeSessionObservers,
  DEFAULT_SETTINGS,
  defaultLogger,
  type Logger,
  MAX_FILE_DESCRIPTOR_SET_BYTES,
  noopSessionObserver,
  PluginFrameworkError,
  type SessionObserver,
  splitFileDescriptorSet,
  validatePluginName,
} from "@operator-plugin-framework/wire";
import { backoffWithDefaults } from "./backoff.js";
import { Connection, type ConnectionConfig } from "./connection.js";
import { loadPluginMetrics } from "./observability/load-metrics.js";
import { type HostCallObserve, SwitchableCallObserver } from "./observability/prom-plugin-observer.js";
import type { MetricsOption } from "./observability/prom-types.js";
import { PluginTracing, type TracingOption } from "./observability/tracing.js";
import type { PluginConnection } from "./plugin-connection.js";
import type { ServiceEntry } from "./service-entry.js";
import type { AttemptConfig } from "./session-attempt.js";
import { type ParsedTarget, parseTarget } from "./target.js";
import { type TokenProvider, tokenProvider } from "./token.js";
import type { CheckedServices } from "./typed-service.js";

/**
 * Options of {@link connectPlugin}. `S` is the type of `services` and
 * `AllowPartial` that of `allowPartialImplementation`, both inferred by
 * `connectPlugin` so that each implementation is checked against its
 * definition.
 */
export interface ConnectPluginOptions<
  S extends readonly ServiceEntry[] = readonly ServiceEntry[],
  AllowPartial extends boolean = boolean,
> {
  /**
   * The plugin's name: a DNS-1123 label (lower-case letters, digits and '-',
   * starting and ending with a letter or digit, at most 63 characters) that
   * the plugin's identity is authorized to register. Another name fails at
   * once with INVALID_ARGUMENT.
   */
  name: string;
  /**
   * The plugin's version, shown in the operator's registry. Make it semver
   * (`"1.4.0"`): the operator selects plugins by semver range, and a version
   * that is not semver matches no range. Default "0.0.0".
   */
  version?: string;
  /**
   * Labels the operator can select this plugin by, e.g. `{ region: "eu" }`.
   * Kubernetes label syntax: keys are an optional DNS-1123 subdomain prefix
   * and '/', then at most 63 letters, digits, '-', '_' or '.', starting and
   * ending with a letter or digit; values are empty or follow the same rule.
   * The operator refuses more than 32 labels or 4096 bytes of keys and values
   * with INVALID_ARGUMENT. Default: none.
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * Where the operator is: `https://host:port` (TLS), `http://host:port`,
   * `unix:///path`, or `dns+https://name:port` for one session per address
   * the name resolves to (every replica behind a headless Service). Several
   * targets give one session each.
   */
  target: string | readonly string[];
  /**
   * The services served: `[definition, implementation]` pairs, as for
   * `grpc.Server.addService`, or `service(definition, implementation)`. With
   * ts-proto definitions an implementation of another service does not
   * compile. A method the implementation lacks fails `connectPlugin` with
   * INVALID_ARGUMENT listing the missing methods, unless
   * `allowPartialImplementation` is set.
   */
  services: S & CheckedServices<S, AllowPartial>;
  /**
   * Serve services whose implementation lacks some methods: calls to those
   * answer UNIMPLEMENTED, naming the plugin and the method. Default false:
   * `connectPlugin` fails, since the operator was told they exist.
   */
  allowPartialImplementation?: AllowPartial;
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
  /**
   * Reconnection backoff: capped exponential growth, each wait drawn between half the cap and the cap. Defaults 100 ms, 10 s, ×2.
   * After a session that stayed registered for `healthyAfterMs` (default 5 000) ends, the first
   * retry comes within `firstRetryMs` (default 300), so plugins are back soon after an operator restart.
   */
  backoff?: {
    initialMs?: number;
    maxMs?: number;
    multiplier?: number;
    firstRetryMs?: number;
    healthyAfterMs?: number;
  };
  /**
   * Liveness pings to the operator: a ping after `intervalMs` of silence; the session is dropped once
   * the operator is silent for `timeoutMs` with a ping unanswered. Defaults 10 000 / 20 000 ms;
   * `intervalMs: 0` turns them off.
   */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /**
   * Resolves a `dns+` target's name to addresses. Default: the system
   * resolver, every address. A failure (or no address) is reported as the
   * target's `reconnecting` state with the host name and the error, keeps the
   * current sessions, and is retried with `backoff`.
   */
  resolve?: (host: string) => Promise<string[]>;
  /** How often a `dns+` target is resolved again while it resolves. Default 30 000 ms. */
  resolveIntervalMs?: number;
  /** Largest message accepted from the operator. Default 4 MiB. */
  maxReceiveMessageSize?: number;
  /** Largest message sent to the operator. Default 4 MiB. */
  maxSendMessageSize?: number;
  /** Calls served at once per session. Default 1000. */
  maxConcurrentStreams?: number;
  /**
   * Host-service calls (`connection.host()`, `callHost()`, `hostService()`)
   * held while every session is at the operator's `max_concurrent_streams`
   * or none is registered yet; one more fails with RESOURCE_EXHAUSTED.
   * Default 1000.
   */
  maxQueuedHostCalls?: number;
  /** On close or drain, time in-flight calls have to finish. Default 10 000 ms. */
  drainGraceMs?: number;
  /**
   * The descriptors of the plugin's services: a serialized
   * google.protobuf.FileDescriptorSet with the files they need, imports
   * included, as `buf build -o set.binpb` or `protoc --include_imports
   * --descriptor_set_out=set.binpb` write it (pass the file's bytes:
   * `readFileSync("set.binpb")`). Announced at registration, so that tools
   * such as `opf call` can encode and decode the plugin's messages without
   * its .proto files. At most 1 MiB (`MAX_FILE_DESCRIPTOR_SET_BYTES`); a
   * larger or malformed set throws INVALID_ARGUMENT here. Default: none.
   */
  fileDescriptorSet?: Uint8Array;
  /**
   * Closes the connection when aborted, as `close()` does. The listener is
   * removed on close, so one signal can serve any number of connections.
   * Default: none.
   */
  signal?: AbortSignal;
  /** Extra grpc-js channel options. Default none. */
  grpcOptions?: ChannelOptions;
  /**
   * Where the client logs; a pino logger fits. Default: warnings and errors as
   * JSON lines on stderr (every failed connection attempt, with its reason);
   * pass `quietLogger` to silence it. Tokens and payloads are never logged.
   */
  logger?: Logger;
  /**
   * Prometheus metrics (`pluginframework_plugin_*`: connection state per
   * operator address, reconnect attempts, calls handled by service, method,
   * caller and code, call duration; `caller="plugin"` for the plugin's own
   * host calls, `"operator"` for the calls it handles). `true` registers them in prom-client's default
   * registry; `{ registry }` in yours. prom-client is an optional peer
   * dependency (`npm install prom-client@^15`), imported when the connection
   * opens; if it is missing the plugin logs an error and serves without
   * metrics. Calls are counted once it has loaded (normally before the first
   * registration completes). Serving `/metrics` is the application's choice.
   * Default: off, and prom-client is never loaded.
   */
  metrics?: MetricsOption;
  /**
   * OpenTelemetry tracing: every call the plugin serves gets a SERVER span
   * (`rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`,
   * `pluginframework.plugin.name`, `pluginframework.session.id`) whose parent
   * is the operator's span from the call's metadata (read through the global
   * propagator: W3C `traceparent`/`tracestate` with the SDK's defaults), and
   * the handler runs inside it, so spans it starts are its children. Each
   * host call gets a CLIENT span, the child of the context active when it
   * starts, whose context goes to the operator (`pluginframework.caller`:
   * "plugin"; "operator" on the others). `true`
   * uses the global tracer provider; `{ tracerProvider }` yours.
   * @opentelemetry/api is an optional peer dependency (`npm install
   * @opentelemetry/api@^1.9`), imported when the connection opens; if it is
   * missing the plugin logs an error and serves untraced. With no tracer
   * provider registered, spans are no-ops. Default: off, and
   * @opentelemetry/api is never loaded.
   */
  tracing?: TracingOption;
}

/**
 * Connects a plugin to its operator and serves its services through the
 * plugin stream, reconnecting until closed.
 *
 * Throws INVALID_ARGUMENT at once, rather than retrying, for what the
 * operator would refuse every time or what cannot work: a name that is not a
 * DNS-1123 label, no target, or services that lack methods.
 *
 * @example
 * const connection = connectPlugin({
 *   name: "aws", target: "https://operator:8443", tokenFile: "/var/run/secrets/tokens/plugin",
 *   labels: { region: "eu" },
 *   services: [service(GreeterServiceService, greeterImpl)],
 * });
 * await connection.registered();
 */
export function connectPlugin<const S extends readonly ServiceEntry[], AllowPartial extends boolean = false>(
  options: ConnectPluginOptions<S, AllowPartial>,
): PluginConnection {
  const metrics = options.metrics ? new SwitchableCallObserver() : noopSessionObserver;
  const logger = options.logger ?? defaultLogger;
  const tracing = options.tracing ? new PluginTracing(options.tracing, options.name, logger) : undefined;
  const calls = tracing
    ? (sessionId: string) => composeSessionObservers(metrics, tracing.session(sessionId))
    : () => metrics;
  const hostCall = hostCallObserve(metrics instanceof SwitchableCallObserver ? metrics : undefined, tracing);
  const config = connectionConfig(options, calls, hostCall);
  const connection = new Connection(config);
  if (options.metrics && metrics instanceof SwitchableCallObserver) {
    void loadPluginMetrics(options.metrics, connection, metrics, config.logger);
  }
  return connection;
}

/** What observes the plugin's host calls: metrics, tracing, both, or nothing. */
function hostCallObserve(
  metrics: SwitchableCallObserver | undefined,
  tracing: PluginTracing | undefined,
): HostCallObserve | undefined {
  if (!tracing) return metrics?.hostCall;
  if (!metrics) return (method) => tracing.hostCall(method);
  return (method, offered) =>
    composeCallObservers(metrics.hostCall(method, offered), tracing.hostCall(method));
}

/** The options once their types have been checked: `services` is just a list of pairs. */
type CheckedOptions = Omit<ConnectPluginOptions, "services"> & { services: readonly ServiceEntry[] };

/** Checks the options and fills in the defaults; throws INVALID_ARGUMENT or FAILED_PRECONDITION. */
function connectionConfig(
  options: CheckedOptions,
  calls: (sessionId: string) => SessionObserver,
  observeHostCall: HostCallObserve | undefined,
): ConnectionConfig {
  checkName(options.name);
  const targets = (typeof options.target === "string" ? [options.target] : [...options.target]).map(
    parseTarget,
  );
  if (targets.length === 0)
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      "connectPlugin needs at least one target, such as https://operator:8443",
    );
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
  const attempt = { ...attemptConfig(options), calls };
  const backoff = backoffWithDefaults(options.backoff);
  const drainGraceMs = options.drainGraceMs ?? 10_000;
  return {
    name: options.name,
    targets,
    linkOptions: (target, grpcTarget) => ({
      grpcTarget,
      credentials: target.tls
        ? credentials.createSsl(options.tls?.ca ? Buffer.from(options.tls.ca) : null)
        : credentials.createInsecure(),
      channelOptions: channelOptions(options, target, attempt, backoff),
      attempt,
      tokens,
      backoff,
      drainGraceMs,
    }),
    hostCalls: {
      maxSendMessageSize: attempt.limits.maxSendMessageSize,
      maxQueued: options.maxQueuedHostCalls ?? 1000,
      ...(observeHostCall ? { observe: observeHostCall } : {}),
    },
    resolve: options.resolve,
    resolveIntervalMs: options.resolveIntervalMs ?? 30_000,
    backoff,
    drainGraceMs,
    signal: options.signal,
    logger: options.logger ?? defaultLogger,
  };
}

/** A descriptor set the operator would ignore on every attempt fails here, once. */
function checkFileDescriptorSet(bytes: Uint8Array | undefined): Buffer {
  if (!bytes || bytes.length === 0) return Buffer.alloc(0);
  const how =
    'make one with "buf build -o set.binpb" or "protoc --include_imports --descriptor_set_out=set.binpb"';
  if (bytes.length > MAX_FILE_DESCRIPTOR_SET_BYTES) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `connectPlugin: fileDescriptorSet is ${bytes.length} bytes, over the limit of ${MAX_FILE_DESCRIPTOR_SET_BYTES}; ` +
        "include only the files the plugin's services need (buf build --path, or protoc with just their .proto files)",
    );
  }
  const files = splitFileDescriptorSet(bytes);
  if (typeof files === "string") {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `connectPlugin: fileDescriptorSet is not a serialized google.protobuf.FileDescriptorSet (${files}); ${how}`,
    );
  }
  return Buffer.from(bytes);
}

/** A name the operator would refuse on every attempt fails here, once. */
function checkName(name: unknown): void {
  if (typeof name !== "string" || name === "") {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      'connectPlugin needs `name`, the plugin\'s name: a DNS-1123 label such as "aws" ' +
        "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    );
  }
  try {
    validatePluginName(name);
  } catch (err) {
    const { details } = PluginFrameworkError.from(err, status.INVALID_ARGUMENT);
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `connectPlugin: ${details}; the operator would refuse it on every attempt`,
    );
  }
}

function attemptConfig(
  options: CheckedOptions,
): Omit<AttemptConfig, "onRegistered" | "onDrain" | "onHostCapacity" | "calls"> {
  const fileDescriptorSet = checkFileDescriptorSet(options.fileDescriptorSet);
  const { handlers, descriptors } = buildServiceTable(options.services, {
    owner: `plugin "${options.name}"`,
    allowPartialImplementation: options.allowPartialImplementation ?? false,
  });
  const maxReceive = options.maxReceiveMessageSize ?? DEFAULT_SETTINGS.maxMessageSize;
  const maxConcurrent = options.maxConcurrentStreams ?? DEFAULT_SETTINGS.maxConcurrentStreams;
  return {
    name: options.name,
    version: options.version ?? "0.0.0",
    labels: { ...options.labels },
    handlers,
    descriptors,
    fileDescriptorSet,
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

/**
 * The HTTP/2 receive window of the plugin's connection (connection and
 * stream), as the operator grants its own by default: with Node's 64 KiB, the
 * operator's sends to the plugin waited for a window update every 64 KiB.
 * `grpcOptions["grpc-node.flow_control_window"]` overrides it.
 */
const HTTP2_WINDOW_SIZE = 1024 * 1024;

function channelOptions(
  options: CheckedOptions,
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
    "grpc-node.flow_control_window": HTTP2_WINDOW_SIZE,
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
