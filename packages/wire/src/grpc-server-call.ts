import { createRequire } from "node:module";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "./errors.js";
import type { ServerInterceptingCallInterface } from "./grpc-internals.js";

type ServerCallModule = typeof import("@grpc/grpc-js/build/src/server-call.js");

/** The grpc-js releases whose internal server-call module this package is tested against. */
export const SUPPORTED_GRPC_JS = "~1.14.7";

const NEEDED = [
  "ServerReadableStreamImpl",
  "ServerWritableStreamImpl",
  "ServerDuplexStreamImpl",
  "serverErrorToStatus",
] as const;

type ServerCall = Pick<ServerCallModule, (typeof NEEDED)[number]>;

let loaded: ServerCall | undefined;

/**
 * The one runtime deep import of grpc-js: its handler-facing call classes,
 * so handlers served through the tunnel (the plugin's services, the
 * operator's host services) get grpc-js's own call objects, as with
 * `grpc.Server.addService`. grpc-js does not export them publicly, so they
 * are checked on first use, failing with the supported range rather than
 * with a TypeError deep in the first call. Loaded lazily: this package has no
 * side effects at import.
 */
export function grpcServerCall(): ServerCall {
  loaded ??= loadServerCall();
  return loaded;
}

function loadServerCall(): ServerCall {
  const require = createRequire(import.meta.url);
  let version = "unknown";
  try {
    version = (require("@grpc/grpc-js/package.json") as { version: string }).version;
  } catch {
    // Only for the message.
  }
  let module: unknown;
  try {
    module = require("@grpc/grpc-js/build/src/server-call.js");
  } catch {
    // checkServerCall reports every name as missing.
  }
  return checkServerCall(module, version);
}

/** Returns `module` if it has every class and function the handler role uses; throws FAILED_PRECONDITION naming the rest. */
export function checkServerCall(module: unknown, version: string): ServerCall {
  const found = (module ?? {}) as Partial<Record<string, unknown>>;
  const missing = NEEDED.filter((name) => typeof found[name] !== "function");
  if (missing.length > 0) {
    throw new PluginFrameworkError(
      status.FAILED_PRECONDITION,
      `the operator plugin framework supports @grpc/grpc-js ${SUPPORTED_GRPC_JS}, found ${version}: ` +
        `@grpc/grpc-js/build/src/server-call.js lacks ${missing.join(", ")}. ` +
        `Install a supported version: npm install @grpc/grpc-js@${SUPPORTED_GRPC_JS}`,
    );
  }
  return module as ServerCall;
}

type MetricsRecorder = ReturnType<ServerInterceptingCallInterface["getMetricsRecorder"]>;
const noop = () => {};

/**
 * What `getMetricsRecorder()` returns on a call served through the tunnel: every
 * method grpc-js's per-request recorder has, recording nothing. (A direct
 * grpc-js server sends the recordings as ORCA load reports in the trailers,
 * which a tunnelled call has no use for.)
 */
export const noopMetricsRecorder = {
  recordRequestCostMetric: noop,
  recordUtilizationMetric: noop,
  recordNamedMetric: noop,
  recordCPUUtilizationMetric: noop,
  recordMemoryUtilizationMetric: noop,
  recordApplicationUtilizationMetric: noop,
  recordQpsMetric: noop,
  recordEpsMetric: noop,
  serialize: () => Buffer.alloc(0),
} satisfies { [K in keyof MetricsRecorder]: MetricsRecorder[K] } as unknown as MetricsRecorder;
