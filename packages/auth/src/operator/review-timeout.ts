import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** Time a TokenReview or SubjectAccessReview has to answer by default. */
export const DEFAULT_REVIEW_TIMEOUT_MS = 5_000;

/**
 * Runs one review request with a deadline. A hung API server must not hold a
 * plugin stream (and every stream sharing the in-flight review) forever: past
 * `timeoutMs` the review fails closed with UNAVAILABLE and the request is
 * aborted, so its socket is released and the next attempt asks again.
 */
export async function withReviewTimeout<T>(
  what: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Reject before aborting, so callers see the timeout rather than the abort it causes.
      reject(
        new PluginFrameworkError(
          status.UNAVAILABLE,
          `the ${what} got no answer from the API server within ${timeoutMs} ms, so the stream is refused; ` +
            "the next attempt asks again. Check that the API server is healthy and reachable from the operator, " +
            "or raise reviewTimeoutMs",
        ),
      );
      controller.abort();
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
