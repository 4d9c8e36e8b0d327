import { status } from "@grpc/grpc-js";
import {
  CallQueue,
  HOST_SERVICES_REVISION,
  type OutgoingCall,
  type StreamBroker,
} from "@operator-plugin-framework/wire";
import type { HostStreams } from "./host-streams.js";

/** One operator session as the router sees it: registered at some revision, with host streams at 2. */
export interface HostRoute {
  /** The operator address. */
  readonly target: string;
  /** The acknowledged protocol revision: 0 for a seed operator. */
  readonly revision: number;
  /** Present when the revision is 2: where host calls go. */
  readonly hostStreams: HostStreams | undefined;
}

export interface HostRouterOptions {
  /** The plugin's name, for messages. */
  pluginName: string;
  /** The registered sessions now, one per operator address, in the order of the connection's targets. */
  routes: () => Iterable<HostRoute>;
  /** Largest message a host call may send. */
  maxSendMessageSize: number;
  /** Calls held while no session can take them. */
  maxQueued: number;
}

type Route =
  | { kind: "open"; streams: HostStreams }
  | { kind: "wait"; why: "unregistered" | "full" }
  | { kind: "unsupported"; details: string };

/**
 * Sends the plugin's host-service calls to an operator session. The rule:
 * among the registered sessions at revision 2 that have a free stream slot,
 * the first one (in the order of the connection's targets) whose operator
 * announced the method's service, else the first one (its operator then
 * answers UNIMPLEMENTED for a service it does not offer).
 *
 * - While no session is registered, a call waits for one until its
 *   deadline; a call without a deadline fails at once with UNAVAILABLE,
 *   since nothing would bound its wait.
 * - While every revision-2 session is at the operator's
 *   `max_concurrent_streams`, calls wait in line, first come first served,
 *   at most `maxQueued` of them; one more fails with RESOURCE_EXHAUSTED.
 * - When sessions are registered but none at revision 2 (a seed or
 *   revision-1 operator), a call fails at once with UNIMPLEMENTED.
 */
export class HostRouter implements StreamBroker {
  readonly peerLabel = "operator";
  private readonly waiting: CallQueue<OutgoingCall>;
  private closedReason: string | undefined;
  private admitting = false;

  constructor(private readonly options: HostRouterOptions) {
    this.waiting = new CallQueue(options.maxQueued);
  }

  get maxSendMessageSize(): number {
    return this.options.maxSendMessageSize;
  }

  /** Calls waiting for a session or a stream slot. */
  get queued(): number {
    return this.waiting.size;
  }

  requestStream(call: OutgoingCall): { code: status; details: string } | undefined {
    if (this.closedReason !== undefined) return { code: status.CANCELLED, details: this.closedReason };
    const route = this.route(call.method);
    if (route.kind === "open") {
      if (this.waiting.size === 0) {
        route.streams.openStream(call);
        return undefined;
      }
    } else if (route.kind === "unsupported") {
      return { code: status.UNIMPLEMENTED, details: route.details };
    } else if (route.why === "unregistered" && !Number.isFinite(call.deadline)) {
      return {
        code: status.UNAVAILABLE,
        details:
          `plugin "${this.options.pluginName}" has no registered session with its operator, so host ` +
          `call ${call.method} cannot be sent; give the call a deadline to wait for one, or await connection.registered()`,
      };
    }
    if (!this.waiting.push(call)) {
      return {
        code: status.RESOURCE_EXHAUSTED,
        details:
          `plugin "${this.options.pluginName}" has ${this.waiting.size} host calls waiting for a stream, the ` +
          "bound set by connectPlugin's maxQueuedHostCalls option: retry later, or raise maxQueuedHostCalls",
      };
    }
    // Others waited first; one of them may be admitted now, and then maybe this one.
    if (route.kind === "open") this.admit();
    return undefined;
  }

  /** True when a registered operator session announced the service of `method`: its metrics label. */
  offers(method: string): boolean {
    for (const route of this.options.routes()) if (route.hostStreams?.offers(method)) return true;
    return false;
  }

  withdraw(call: OutgoingCall): void {
    this.waiting.remove(call);
  }

  /** A session registered, or a stream slot freed: give waiting calls their streams, in order. */
  admit(): void {
    if (this.admitting) return;
    this.admitting = true;
    try {
      for (let call = this.waiting.peek(); call; call = this.waiting.peek()) {
        const route = this.route(call.method);
        if (route.kind === "wait") return;
        this.waiting.shift();
        if (route.kind === "open") route.streams.openStream(call);
        else call.end(status.UNIMPLEMENTED, route.details);
      }
    } finally {
      this.admitting = false;
    }
  }

  /** The connection closed: waiting calls fail, and so does every later call. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const call of this.waiting.clear()) call.end(status.CANCELLED, reason);
  }

  private route(method: string): Route {
    let registered = 0;
    let full = false;
    let first: HostStreams | undefined;
    const old: string[] = [];
    for (const route of this.options.routes()) {
      registered++;
      const streams = route.hostStreams;
      if (route.revision < HOST_SERVICES_REVISION || !streams) {
        old.push(
          `${route.target} (${route.revision === 0 ? "seed protocol" : `revision ${route.revision}`})`,
        );
        continue;
      }
      if (!streams.hasFreeSlot) {
        full = true;
        continue;
      }
      if (streams.offers(method)) return { kind: "open", streams };
      first ??= streams;
    }
    if (first) return { kind: "open", streams: first };
    if (full) return { kind: "wait", why: "full" };
    if (registered === 0) return { kind: "wait", why: "unregistered" };
    return {
      kind: "unsupported",
      details:
        `host call ${method} failed: the operator's session does not offer host services; ` +
        `registered at ${old.join(", ")}. Host services need protocol revision 2: upgrade the operator to ` +
        "a @operator-plugin-framework/server release with host services",
    };
  }
}
