import type { IncomingMessage, ServerResponse } from "node:http";

/** The `reason` values of metav1.Status the fake API uses, by HTTP status. */
const reasons: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/** An error the API answers with a metav1.Status, as the real API server does. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
    readonly reason: string = reasons[httpStatus] ?? "Unknown",
    readonly details?: object,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, httpStatus: number, body: object): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(httpStatus, {
    "content-type": "application/json",
    "content-length": payload.length,
    // After a refused oversize body the connection holds unread bytes: end it.
    ...(httpStatus === 413 ? { connection: "close" } : {}),
  });
  res.end(payload);
}

/** Answers with a `kind: Status` failure object, the shape client-node parses into ApiException.body. */
export function sendStatus(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.httpStatus, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: error.message,
    reason: error.reason,
    ...(error.details === undefined ? {} : { details: error.details }),
    code: error.httpStatus,
  });
}

/**
 * Reads and parses a JSON body. The body is untrusted: it is bounded by
 * `maxBytes` (413 past it, without buffering the rest) and must be a JSON object.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const parsed = await readJsonValue(req, maxBytes);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ApiError(400, "the body of the request must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** Reads and parses a JSON body of any type (a JSON patch is an array), bounded like `readJsonBody`. */
export async function readJsonValue(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType !== "application/json" && !contentType.endsWith("+json")) {
    throw new ApiError(
      415,
      `the body of the request was in an unknown format - accepted media types include: application/json`,
    );
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    throw new ApiError(413, `the request body is larger than ${maxBytes} bytes`);
  }
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the 413 answer closes the connection, so the rest is never read.
        cleanup();
        req.pause();
        reject(new ApiError(413, `the request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ApiError(400, `the body of the request is not valid JSON: ${(err as Error).message}`);
  }
}

/** Rejects a body whose `apiVersion`/`kind` name another type, as the API server's decoder does. */
export function checkTypeMeta(body: Record<string, unknown>, apiVersion: string, kind: string): void {
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw new ApiError(
      400,
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (body.kind !== undefined && body.kind !== kind) {
    throw new ApiError(
      400,
      `the kind in the data (${String(body.kind)}) does not match the expected kind (${kind})`,
    );
  }
}

/** Reads an optional string field, refusing other types with 400. */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ApiError(400, `${field}: expected a string`);
  return value;
}

/** Reads an optional string array field, refusing other types with 400. */
export function optionalStringArray(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new ApiError(400, `${field}: expected an array of strings`);
  }
  return value as string[];
}

/** Reads an optional object field, refusing other types with 400. */
export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value))
    throw new ApiError(400, `${field}: expected an object`);
  return value as Record<string, unknown>;
}
