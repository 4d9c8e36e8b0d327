import { type Metadata, status } from "@grpc/grpc-js";
import type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthenticator,
} from "@operator-plugin-framework/auth";
import { PLUGIN_STREAM_PATH, PluginFrameworkError } from "@operator-plugin-framework/wire";
import { authHeaders } from "./stream-headers.js";

/** What admission needs of the stream it admits. */
export interface AdmittedCall {
  readonly metadata: Metadata;
  getPeer(): string;
}

/** Where a stream's admission stands, for a message that says what it waited for. */
export type AdmissionPhase =
  | { step: "awaiting-register" }
  | { step: "authenticating"; name: string }
  | { step: "authorizing-name"; name: string }
  | { step: "done" };

/**
 * Admits one plugin stream: authenticates it as soon as it opens (in
 * parallel with waiting for `register`), then authorizes the name it
 * registers. Keeps track of which step is pending, so that a stream cut by
 * the register timeout is told what it was waiting for rather than "no
 * register message" when `register` had arrived.
 */
export class StreamAdmission {
  private phase: AdmissionPhase = { step: "awaiting-register" };
  /** The stream's identity; undefined without an authenticator. Rejects when authentication fails. */
  readonly identity: Promise<PluginIdentity | undefined>;

  constructor(
    private readonly checks: {
      authenticator: StreamAuthenticator | undefined;
      authorizeName: PluginNameAuthorizer | undefined;
    },
    call: AdmittedCall,
  ) {
    const { authenticator } = checks;
    this.identity =
      authenticator === undefined
        ? Promise.resolve(undefined)
        : // Through a microtask, so that an authenticator that throws synchronously rejects instead.
          Promise.resolve().then(() =>
            authenticator.authenticate({
              headers: authHeaders(call.metadata),
              peer: call.getPeer(),
              path: PLUGIN_STREAM_PATH,
            }),
          );
    this.identity.catch(() => {});
  }

  /**
   * Waits for authentication, then asks the name policy about `name`.
   * Resolves with the identity; rejects with the authenticator's status, or
   * PERMISSION_DENIED with the policy's reason.
   */
  async admit(name: string): Promise<PluginIdentity | undefined> {
    this.phase = { step: "authenticating", name };
    const identity = await this.identity;
    const { authorizeName } = this.checks;
    if (authorizeName) {
      if (!identity) {
        throw new PluginFrameworkError(status.UNAUTHENTICATED, "no identity to authorize the plugin name");
      }
      this.phase = { step: "authorizing-name", name };
      const decision = await authorizeName(identity, name);
      if (!decision.allowed) {
        throw new PluginFrameworkError(
          status.PERMISSION_DENIED,
          decision.reason ?? `${identity.user} may not register plugin "${name}"`,
        );
      }
    }
    this.phase = { step: "done" };
    return identity;
  }

  /**
   * The status for a stream not admitted within `timeoutMs` of opening:
   * DEADLINE_EXCEEDED when `register` never came, UNAVAILABLE (the plugin
   * retries) when it came but a check was still pending, naming the check.
   */
  timedOut(timeoutMs: number): { code: status; details: string } {
    const phase = this.phase;
    switch (phase.step) {
      case "awaiting-register":
        return { code: status.DEADLINE_EXCEEDED, details: `no register message within ${timeoutMs} ms` };
      case "done":
        return {
          code: status.DEADLINE_EXCEEDED,
          details: `registration did not complete within ${timeoutMs} ms`,
        };
      case "authenticating":
        return {
          code: status.UNAVAILABLE,
          details:
            `register for plugin "${phase.name}" arrived, but authenticating the stream ` +
            `(${this.checks.authenticator?.mode ?? "none"}) did not finish within ${timeoutMs} ms of it opening; ` +
            "the authenticator is waiting on something slow (for example the Kubernetes API); try again",
        };
      case "authorizing-name":
        return {
          code: status.UNAVAILABLE,
          details:
            `register for plugin "${phase.name}" arrived, but authorizing that name did not finish within ` +
            `${timeoutMs} ms of the stream opening; the name policy is waiting on something slow ` +
            "(for example the Kubernetes API); try again",
        };
    }
  }
}
