import { constants, type ServerHttp2Stream } from "node:http2";

/**
 * Answers a request the proxy will not forward, with what Go's `http.Error`
 * writes (text/plain, nosniff, message plus newline) or, for 502, the empty
 * body of Go's reverse-proxy error handler. A client still sending its request
 * body gets RST_STREAM(NO_ERROR) after the answer, as Go's HTTP/2 server does
 * for an unread body, so a bidi stream cannot linger half-open.
 */
export function replyError(stream: ServerHttp2Stream, status: number, message?: string): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.on("error", () => {});
  stream.respond(
    message === undefined
      ? { ":status": status }
      : {
          ":status": status,
          "content-type": "text/plain; charset=utf-8",
          "x-content-type-options": "nosniff",
        },
  );
  stream.end(message === undefined ? undefined : `${message}\n`, () => {
    if (!stream.closed && !stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
  });
  stream.resume();
}
