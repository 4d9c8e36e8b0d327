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
}

/** Type guard for any error with a numeric gRPC `code` (ours or grpc-js's ServiceError). */
export function isStatusError(
  err: unknown,
): err is Error & { code: Status; details?: string; metadata?: Metadata } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number";
}
