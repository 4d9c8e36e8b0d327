import { Metadata, status as Status } from "@grpc/grpc-js";

/**
 * The one error class the framework raises. `code` is a gRPC status code, so
 * callers can branch on it the same way for local and remote failures.
 *
 * It also satisfies grpc-js's `ServiceError` shape (`code`, `details`,
 * `metadata`), so it can be handed to a grpc-js callback or thrown from a
 * handler unchanged.
 */
export class PluginFrameworkError extends Error {
  override readonly name = "PluginFrameworkError";
  readonly code: Status;
  readonly details: string;
  readonly metadata: Metadata;

  constructor(code: Status, details: string, options?: { cause?: unknown; metadata?: Metadata }) {
    super(
      `${Status[code] ?? code}: ${details}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.details = details;
    this.metadata = options?.metadata ?? new Metadata();
  }

  /**
   * Turns anything thrown or rejected into a PluginFrameworkError:
   * - a PluginFrameworkError is returned as it is;
   * - an error with a numeric gRPC `code` (grpc-js's `ServiceError`, or a
   *   handler's own) keeps its code, details and metadata, and becomes the cause;
   * - an `AbortError` (an aborted signal) becomes `CANCELLED`;
   * - anything else gets `fallbackCode` (default `UNKNOWN`) and its message.
   */
  static from(reason: unknown, fallbackCode: Status = Status.UNKNOWN): PluginFrameworkError {
    if (reason instanceof PluginFrameworkError) return reason;
    // Checked first: a DOMException AbortError has a numeric `code` (20) too.
    if (reason instanceof Error && reason.name === "AbortError") {
      return new PluginFrameworkError(Status.CANCELLED, reason.message, { cause: reason });
    }
    if (isStatusError(reason)) {
      const metadata = reason.metadata instanceof Metadata ? reason.metadata : undefined;
      return new PluginFrameworkError(reason.code, reason.details ?? reason.message, {
        cause: reason,
        ...(metadata ? { metadata } : {}),
      });
    }
    if (reason instanceof Error) {
      return new PluginFrameworkError(fallbackCode, reason.message, { cause: reason });
    }
    return new PluginFrameworkError(fallbackCode, String(reason), { cause: reason });
  }
}

/**
 * Type guard for any error with a gRPC status `code` (ours or grpc-js's
 * ServiceError): an integer from 0 to 16. DOMExceptions carry numeric codes of
 * their own and never match.
 */
export function isStatusError(
  err: unknown,
): err is Error & { code: Status; details?: string; metadata?: Metadata } {
  if (!(err instanceof Error) || err instanceof DOMException) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && Number.isInteger(code) && code >= 0 && code <= 16;
}

/**
 * The error for a peer that broke the stream protocol: a malformed,
 * out-of-order or unknown frame. Always `INVALID_ARGUMENT`, and the message
 * starts with "protocol violation" so logs and callers can tell it apart from
 * an application's own INVALID_ARGUMENT.
 */
export function protocolViolation(message: string): PluginFrameworkError {
  return new PluginFrameworkError(Status.INVALID_ARGUMENT, `protocol violation: ${message}`);
}
