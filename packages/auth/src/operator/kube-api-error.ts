import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Describes a failed API call without echoing the request or response body:
 * a TokenReview carries the token being reviewed.
 */
function describeFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "number") {
    let body = (err as { body?: unknown }).body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        body = undefined;
      }
    }
    const statusBody = body as { kind?: unknown; message?: unknown } | undefined;
    const message =
      statusBody?.kind === "Status" && typeof statusBody.message === "string"
        ? `: ${statusBody.message}`
        : "";
    return `HTTP ${code}${message}`;
  }
  if (typeof code === "string") return code;
  return err instanceof Error ? err.name : "unknown error";
}

/** Maps a failed TokenReview or SubjectAccessReview request to UNAVAILABLE, with a hint. */
export function kubeApiUnavailable(err: unknown, what: string, hint: string): PluginFrameworkError {
  return new PluginFrameworkError(
    status.UNAVAILABLE,
    `the operator could not create a ${what} (${describeFailure(err)}); ${hint}`,
    { cause: err },
  );
}
