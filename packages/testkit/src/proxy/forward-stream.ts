import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { replyError } from "./http-reply.js";
import type { ProxyLogger } from "./types.js";

/**
 * Forwards one authorized HTTP/2 stream to the upstream, the way Go's
 * ReverseProxy over an h2c transport does:
 * - both bodies are piped, so HTTP/2 flow control applies end to end and
 *   nothing is buffered beyond the streams' own high-water marks;
 * - response headers, DATA and trailers pass through; a trailers-only answer
 *   stays trailers-only;
 * - no upstream answer (connect error, reset before headers) → 502;
 * - upstream reset or lost after its headers → RST_STREAM(INTERNAL_ERROR) to
 *   the client (Go's http.ErrAbortHandler);
 * - client reset → RST_STREAM(CANCEL) upstream (Go cancels the request context).
 */
export function forwardStream(
  inbound: ServerHttp2Stream,
  headers: OutgoingHttpHeaders,
  session: () => ClientHttp2Session,
  logger: ProxyLogger,
): void {
  let upstream: ClientHttp2Stream;
  try {
    upstream = session().request(headers, { endStream: inbound.endAfterHeaders });
  } catch (err) {
    logger.warn({ err: String(err), path: headers[":path"] }, "upstream unavailable, answering 502");
    replyError(inbound, 502);
    return;
  }
  let responded = false;
  let completed = false;
  let trailers: IncomingHttpHeaders | undefined;

  inbound.on("error", (err) => logger.debug({ err: String(err) }, "inbound stream error"));
  upstream.on("error", (err) => logger.debug({ err: String(err) }, "upstream stream error"));
  if (!inbound.endAfterHeaders) inbound.pipe(upstream);

  upstream.on("response", (responseHeaders) => {
    if (inbound.destroyed || inbound.closed) return;
    responded = true;
    // A gRPC "trailers-only" answer carries grpc-status in its one HEADERS
    // frame; Node does not always flag END_STREAM by the time "response"
    // fires, so recognise it by its content and keep it trailers-only.
    if (upstream.endAfterHeaders || responseHeaders["grpc-status"] !== undefined) {
      completed = true;
      inbound.respond(copyHeaders(responseHeaders, true), { endStream: true });
      return;
    }
    inbound.respond(copyHeaders(responseHeaders, true), { waitForTrailers: true });
    upstream.pipe(inbound, { end: false });
  });
  upstream.on("trailers", (received) => {
    trailers = received;
  });
  inbound.on("wantTrailers", () => inbound.sendTrailers(copyHeaders(trailers ?? {}, false)));

  // Node ends the readable side only on END_STREAM; a reset goes straight to
  // "close" (below), so an aborted answer is never passed on as a clean end.
  upstream.on("end", () => {
    if (!responded || completed) return;
    completed = true;
    if (!inbound.writableEnded) inbound.end();
  });
  upstream.on("close", () => {
    if (inbound.destroyed || inbound.closed) return;
    if (!responded) {
      logger.warn({ path: headers[":path"], rstCode: upstream.rstCode }, "no upstream answer, answering 502");
      replyError(inbound, 502);
    } else if (!completed) {
      inbound.close(constants.NGHTTP2_INTERNAL_ERROR);
    } else if (!inbound.readableEnded) {
      // The answer is complete; whatever the client still sends has nowhere to go.
      inbound.unpipe(upstream);
      inbound.resume();
    }
  });
  inbound.on("close", () => {
    if (!upstream.closed && !upstream.destroyed) upstream.close(constants.NGHTTP2_CANCEL);
  });
}

/** Drops pseudo-headers (but `:status` of a response) and connection-specific fields. */
function copyHeaders(received: IncomingHttpHeaders, keepStatus: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(received)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    if (name.startsWith(":") && !(keepStatus && name === ":status")) continue;
    out[name] = value;
  }
  return out;
}

/** Fields Go's ReverseProxy removes and Node's HTTP/2 refuses to send. */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
]);
