import type { Metadata } from "@grpc/grpc-js";
import type * as OtelApi from "@opentelemetry/api";
import type { MetadataEntry } from "@operator-plugin-framework/proto";

/** The @opentelemetry/api module, as `import("@opentelemetry/api")` returns it. */
export type OtelApiModule = typeof OtelApi;

const EMPTY = Buffer.alloc(0);

/** Writes propagation fields into wire entries, replacing any the caller had set under the same key. */
const entriesSetter: OtelApi.TextMapSetter<MetadataEntry[]> = {
  set(carrier, key, value) {
    const lower = key.toLowerCase();
    for (let i = carrier.length - 1; i >= 0; i--) if (carrier[i]!.key === lower) carrier.splice(i, 1);
    carrier.push({ key: lower, value, binaryValue: EMPTY });
  },
};

/** Reads propagation fields from grpc-js Metadata (text values only: trace headers are never `-bin`). */
const metadataGetter: OtelApi.TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get(carrier, key) {
    // Called per traced call for each propagation field: the one-value case allocates nothing.
    const values = carrier.get(key);
    if (values.length <= 1) return typeof values[0] === "string" ? values[0] : undefined;
    const strings = values.filter((value): value is string => typeof value === "string");
    return strings.length > 1 ? strings : strings[0];
  },
};

/**
 * Caller side of a tunnelled call: adds the trace context of `ctx` to the
 * metadata entries of the call's new_stream, through the global propagator
 * (with the SDK's defaults, W3C `traceparent` and `tracestate`). Does nothing
 * when no propagator is registered or `ctx` holds no valid span.
 */
export function injectTraceContext(api: OtelApiModule, ctx: OtelApi.Context, entries: MetadataEntry[]): void {
  api.propagation.inject(ctx, entries, entriesSetter);
}

/**
 * Handler side of a tunnelled call: the context its handler runs in, with
 * the caller's span (from the call's metadata, through the global
 * propagator) as remote parent. It starts from the root context, never from
 * whatever context delivered the frame, so a handler's spans join only the
 * caller's trace.
 */
export function extractTraceContext(api: OtelApiModule, metadata: Metadata): OtelApi.Context {
  return api.propagation.extract(api.ROOT_CONTEXT, metadata, metadataGetter);
}
