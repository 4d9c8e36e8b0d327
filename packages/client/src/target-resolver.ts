import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { type Backoff, backoffDelay } from "./backoff.js";
import type { ParsedTarget } from "./target.js";

/** Resolves a host name to addresses. */
export type Resolve = (host: string) => Promise<string[]>;

/** The system resolver, every address (A and AAAA), as a headless Service answers. */
export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true })).map((entry) => entry.address);

/** A failed resolution of a `dns+` target, as the connection reports it. */
export interface ResolveFailure {
  /** Failures in a row, 1 or more. */
  failures: number;
  /** Wait before the next try, from the connection's backoff. */
  delayMs: number;
  /** What failed: the host name and the resolver's error. */
  details: string;
}

export interface TargetResolverOptions {
  target: ParsedTarget;
  resolve: Resolve;
  /** The reconnection backoff: a failed resolution is retried at the same pace as a failed connection. */
  backoff: Backoff;
  /** Time between resolutions while they succeed. */
  intervalMs: number;
  /** The addresses the name resolves to now, as dial targets ("10.0.0.7:8443", "[fd00::7]:8443"). */
  onAddresses: (addresses: Set<string>) => void;
  onFailure: (failure: ResolveFailure) => void;
}

/**
 * Keeps one `dns+` target resolved: every `intervalMs` while the name
 * resolves, and after a failure again with the connection's backoff, so a
 * plugin that starts before the operator's headless Service has endpoints
 * (or during a DNS outage) connects as soon as the name resolves, not a full
 * interval later. A failure, or an answer with no address, keeps the current
 * sessions: a resolver hiccup must not drop working sessions.
 */
export class TargetResolver {
  /** The name and port resolved, "operator-headless:8443": the connection's key for this target's state. */
  readonly source: string;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;

  constructor(private readonly options: TargetResolverOptions) {
    this.source = `${options.target.host}:${options.target.port}`;
    void this.run();
  }

  /** Stops resolving; a resolution still running is ignored when it ends. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    const { target, resolve, backoff, intervalMs } = this.options;
    let addresses: string[] | undefined;
    let error: string | undefined;
    try {
      addresses = await resolve(target.host);
      if (addresses.length === 0) error = "it resolved to no address";
    } catch (err) {
      error = describeError(err);
    }
    if (this.closed) return;
    if (error === undefined && addresses) {
      this.failures = 0;
      this.options.onAddresses(
        new Set(addresses.map((ip) => `${isIP(ip) === 6 ? `[${ip}]` : ip}:${target.port}`)),
      );
      this.schedule(intervalMs);
      return;
    }
    this.failures++;
    const delayMs = backoffDelay(backoff, this.failures);
    this.options.onFailure({
      failures: this.failures,
      delayMs,
      details: `resolving the operator's host name "${target.host}" failed: ${error}; retrying in ${delayMs} ms (check the Service name and namespace in the target, and that the operator's pods are ready)`,
    });
    this.schedule(delayMs);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.run(), ms);
  }
}

// getaddrinfo's errors say little by themselves ("ENOTFOUND"); the code and the message together do.
function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
