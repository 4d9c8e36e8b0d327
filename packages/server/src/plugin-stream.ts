import { randomUUID } from "node:crypto";
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthenticator,
} from "@operator-plugin-framework/auth";
import { type PluginRegister, PluginStreamMessage, type Settings } from "@operator-plugin-framework/proto";
import type { AnnouncedService, PluginRegistry } from "@operator-plugin-framework/registry";
import { addSession, onRegisteredAs } from "@operator-plugin-framework/registry/internal";
import {
  effectiveSettings,
  HOST_SERVICES_REVISION,
  isStatusError,
  type Logger,
  PluginFrameworkError,
  protocolViolation,
} from "@operator-plugin-framework/wire";
import { keepAnnouncedDescriptors } from "./admin/plugin-descriptors.js";
import type { HostServing } from "./host-calls.js";
import type { LogBudget } from "./log-budget.js";
import type { ServerObserver } from "./observability/server-observer.js";
import { validateRegister } from "./register.js";
import { SeedSession } from "./seed-session.js";
import type { DrainOptions, ServerSessionLimits, SessionBase } from "./session-base.js";
import { StreamAdmission } from "./stream-admission.js";
import {
  type CapRefusal,
  type CapSlot,
  isCapRefusal,
  type StreamCaps,
  takeConnection,
} from "./stream-caps.js";
import type { SessionTransport } from "./transport.js";
import { type KeepaliveSettings, TunnelSession } from "./tunnel-session.js";

/** What every plugin stream of one server shares. */
export interface StreamContext {
  registry: PluginRegistry;
  authenticator: StreamAuthenticator | undefined;
  authorizeName: PluginNameAuthorizer | undefined;
  limits: ServerSessionLimits;
  localSettings: Required<Settings>;
  registerTimeoutMs: number;
  /** Liveness pings to revision-1 plugins; interval 0 turns them off. */
  keepalive: KeepaliveSettings;
  /** Age after which a session is drained so the plugin reconnects (and is authenticated again). */
  maxConnectionAgeMs: number | undefined;
  /** Time a drained session has to finish its calls before it is cut. */
  drainGraceMs: number;
  logger: Logger;
  /** Bounds refusal log lines, which a hostile client can cause at will. */
  refusalLog: LogBudget;
  /** Watches sessions and refusals (metrics); a no-op unless metrics are on. */
  observer: ServerObserver;
  /** Caps on unregistered streams and on sessions per identity. */
  caps: StreamCaps;
  /** The host services offered to revision-2 plugins, and who may call them. */
  host: HostServing;
  /** Why new streams are refused now (the server is stopping), or undefined. */
  refusal(): string | undefined;
  /** Called once per stream with the function that ends it; the returned function forgets it. */
  track(stream: PluginStream): () => void;
}

const MAX_PENDING_BEFORE_REGISTERED = 64;
/** Bytes buffered before registration, besides the max receive message size: framing, as grpc-js allows. */
const PRE_REGISTER_FRAMING_BYTES = 1024 * 1024;

/**
 * Bytes a message keeps alive while it waits: its encoding, or for a frame
 * batch its frames, and at least the received buffer its data chunks are
 * views into.
 */
function bufferedSize(message: PluginStreamMessage): number {
  const payload = message.payload;
  if (payload?.$case !== "frames") return PluginStreamMessage.encode(message).finish().length;
  let bytes = 0;
  let retained = 0;
  for (const frame of payload.value.frames) {
    bytes += 16;
    if (frame.kind?.$case !== "data") continue;
    bytes += frame.kind.value.data.length;
    retained = Math.max(retained, frame.kind.value.data.buffer.byteLength);
  }
  return Math.max(bytes, retained);
}

/** The checks of a stream refused before admission: none. */
const NO_CHECKS = { authenticator: undefined, authorizeName: undefined };

type Duplex = ServerDuplexStream<PluginStreamMessage, PluginStreamMessage>;

/**
 * One plugin's stream, from open to end: authenticate, wait for `register`,
 * admit the session into the registry, then route every message to it. Any
 * bad input ends this stream alone, with a status saying what was wrong.
 */
export class PluginStream implements SessionTransport {
  private state: "awaiting-register" | "registering" | "registered" | "ended" = "awaiting-register";
  private session: SessionBase | undefined;
  /** The name the plugin asked for, once its register arrived: for the refusal log. */
  private attemptedName: string | undefined;
  /** Who the plugin is, once authenticated: for the refusal log. */
  private user: string | undefined;
  private removeFromRegistry: (() => void) | undefined;
  private readonly pending: PluginStreamMessage[] = [];
  private pendingBytes = 0;
  // Both dropped once registered: at 10,000 sessions, what a registered
  // stream keeps is memory per session.
  private registerTimer: NodeJS.Timeout | undefined;
  private admission: StreamAdmission | undefined;
  private readonly untrack: () => void;
  private drainListener: (() => void) | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private offReplacement: (() => void) | undefined;
  /** Held under the caps: until registered, and while the session lives. */
  private unregisteredSlot: CapSlot | undefined;
  private identitySlot: CapSlot | undefined;
  /** The cap that refused this stream, for the refusal metric. */
  private capReason: CapRefusal["reason"] | undefined;

  constructor(
    private readonly call: Duplex,
    private readonly ctx: StreamContext,
  ) {
    this.untrack = ctx.track(this);
    const opened = ctx.caps.openUnregistered(takeConnection(call.metadata));
    // A stream over the cap is not authenticated: refusing must cost less than admitting.
    this.admission = new StreamAdmission(isCapRefusal(opened) ? NO_CHECKS : ctx, call);
    // A stream whose identity is refused ends at once, not at the register timeout.
    this.admission.identity.then(
      (identity) => {
        this.user = identity?.user;
      },
      (err: unknown) => this.fail(err),
    );
    this.registerTimer = setTimeout(() => {
      const timedOut = this.admission!.timedOut(ctx.registerTimeoutMs);
      this.end(timedOut.code, timedOut.details);
    }, ctx.registerTimeoutMs);
    call.on("data", (message: PluginStreamMessage) => this.onMessage(message));
    call.on("drain", () => this.drainListener?.());
    call.on("end", () => this.end(status.OK, "plugin closed its stream"));
    call.on("cancelled", () => this.closeSession("plugin stream cancelled"));
    call.on("close", () => this.closeSession("plugin stream closed"));
    call.on("error", () => this.closeSession("plugin stream failed"));
    const refusal = ctx.refusal();
    if (isCapRefusal(opened)) this.refuse(opened);
    else if (refusal) this.end(status.UNAVAILABLE, refusal);
    else this.unregisteredSlot = opened;
  }

  // The stream is its session's transport: methods rather than an object of
  // closures, one object fewer per session.

  /** Writes one message to the plugin; false once ended, or when the stream wants a drain. */
  write(message: PluginStreamMessage, onWritten?: () => void): boolean {
    return this.state !== "ended" && this.call.write(message, onWritten);
  }

  /** Sets the session's callback for the stream's `drain`. */
  onDrain(callback: () => void): void {
    this.drainListener = callback;
  }

  /** Tells the plugin to finish and reconnect elsewhere; its open calls go on. */
  drain(options: DrainOptions): void {
    if (this.session) this.session.drain(options);
    else this.end(status.UNAVAILABLE, options.reason);
  }

  /**
   * Drains the session once it is older than the maximum age: the plugin
   * registers again on a new stream (authenticated afresh) while this one
   * finishes its calls, and is then cut. Seed plugins, which cannot drain, are
   * cut when idle.
   */
  private scheduleMaxAge(): void {
    const age = this.ctx.maxConnectionAgeMs;
    if (age === undefined || age <= 0) return;
    // Up to 10% jitter, so plugins that connected together do not all reconnect together.
    const delay = age + Math.floor(Math.random() * age * 0.1);
    this.ageTimer = setTimeout(() => {
      const reason = `session reached its maximum age of ${age} ms`;
      this.drain({ reason, graceMs: this.ctx.drainGraceMs, mode: "until-replaced" });
      // Cut it at the end of the grace period whatever happens...
      this.ageTimer = setTimeout(() => this.end(status.UNAVAILABLE, reason), this.ctx.drainGraceMs);
      // ...but normally once its replacement is registered and its calls are done.
      const name = this.session?.name ?? "";
      this.offReplacement = onRegisteredAs(this.ctx.registry, name, (event) => {
        if (event.session === this.session) return;
        this.offReplacement?.();
        this.whenIdle(() => this.end(status.OK, reason));
      });
    }, delay);
  }

  private whenIdle(callback: () => void): void {
    const session = this.session;
    if (!session) return callback();
    void session.idle().then(() => {
      if (this.state !== "ended") callback();
    });
  }

  /** Resolves once this stream has no call in flight. */
  idle(): Promise<void> {
    return this.session?.idle() ?? Promise.resolve();
  }

  /** Ends the stream with a status and removes its session. Idempotent. */
  end(code: status, details: string): void {
    if (this.state === "ended") return;
    if (code !== status.OK && this.state !== "registered") this.ctx.observer.refused(code, this.capReason);
    this.closeSession(details);
    try {
      if (code === status.OK) this.call.end();
      else this.call.emit("error", { code, details });
    } catch {
      // The stream is already gone; nothing left to tell the plugin.
    }
  }

  private closeSession(reason: string): void {
    if (this.state === "ended") return;
    if (this.session) {
      this.ctx.logger.info(
        { plugin: this.session.name, session: this.session.id, user: this.session.identity?.user, reason },
        "plugin session ended",
      );
    }
    this.state = "ended";
    this.unregisteredSlot?.release();
    this.identitySlot?.release();
    clearTimeout(this.registerTimer);
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.offReplacement?.();
    this.untrack();
    this.removeFromRegistry?.();
    this.session?.terminate(reason);
    this.session?.observer.closed();
    this.call.removeAllListeners("data");
  }

  private onMessage(message: PluginStreamMessage): void {
    try {
      switch (this.state) {
        case "awaiting-register":
          if (message.payload?.$case !== "register") {
            throw protocolViolation(`the first message must be register, got ${describe(message)}`);
          }
          this.state = "registering";
          void this.register(message.payload.value);
          return;
        case "registering": {
          if (message.payload?.$case === "register")
            throw protocolViolation("duplicate register on one stream");
          // Authentication may take a network round trip; a plugin must not fill memory meanwhile.
          // Bounded in count and in bytes: one max-size message (plus framing) at most.
          this.pendingBytes += bufferedSize(message);
          if (this.pending.length >= MAX_PENDING_BEFORE_REGISTERED) {
            throw new PluginFrameworkError(
              status.RESOURCE_EXHAUSTED,
              `more than ${MAX_PENDING_BEFORE_REGISTERED} messages before registration completed`,
            );
          }
          const maxBytes = this.ctx.limits.maxReceiveMessageSize + PRE_REGISTER_FRAMING_BYTES;
          if (this.pendingBytes > maxBytes) {
            throw new PluginFrameworkError(
              status.RESOURCE_EXHAUSTED,
              `${this.pendingBytes} bytes sent before registration completed, over the limit of ${maxBytes}; ` +
                "wait for register_ack before sending more",
            );
          }
          this.pending.push(message);
          return;
        }
        case "registered":
          this.session!.onMessage(message);
          return;
        case "ended":
          return;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async register(register: PluginRegister): Promise<void> {
    try {
      this.attemptedName = register.name;
      const services = validateRegister(register);
      const identity = await this.admission!.admit(register.name);
      if (this.state !== "registering") return;
      const refusal = this.ctx.refusal();
      if (refusal) throw new PluginFrameworkError(status.UNAVAILABLE, refusal);
      if (identity) {
        const slot = this.ctx.caps.openSession(identity.user);
        if (isCapRefusal(slot)) return this.refuse(slot);
        this.identitySlot = slot;
      }
      clearTimeout(this.registerTimer);
      this.registerTimer = undefined;
      this.admission = undefined;
      const session = this.createSession(register, identity, services);
      this.session = session;
      session.observer = this.ctx.observer.sessionOpened(session);
      session.accept();
      this.state = "registered";
      this.unregisteredSlot?.release();
      keepAnnouncedDescriptors(session, register.fileDescriptorSet, this.ctx.logger);
      this.removeFromRegistry = addSession(this.ctx.registry, session);
      this.scheduleMaxAge();
      this.ctx.logger.info(
        {
          plugin: register.name,
          session: session.id,
          version: register.version,
          revision: session.protocolRevision,
          user: identity?.user,
        },
        "plugin registered",
      );
      for (const message of this.pending.splice(0)) session.onMessage(message);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * A tunnel session for plugins that announce revision 1 or higher (at the
   * revision both speak: a revision-2 session offers host services), a seed
   * session for the rest.
   */
  private createSession(
    register: PluginRegister,
    identity: PluginIdentity | undefined,
    services: AnnouncedService[],
  ): SessionBase {
    const revision = Math.min(register.protocolRevision, HOST_SERVICES_REVISION);
    const init = {
      id: randomUUID(),
      name: register.name,
      version: register.version,
      protocolRevision: revision,
      identity,
      peer: this.call.getPeer(),
      services,
      labels: register.labels,
    };
    if (revision < 1) return new SeedSession(init, this, this.ctx.limits);
    const settings = { local: this.ctx.localSettings, peer: effectiveSettings(register.settings) };
    return new TunnelSession(init, this, this.ctx.limits, settings, this.ctx.keepalive, {
      serving: this.ctx.host,
      authority: this.call.getHost?.() ?? "",
    });
  }

  /** Ends the stream refused by a cap, counted under that cap's reason. */
  private refuse(refusal: CapRefusal): void {
    this.capReason = refusal.reason;
    this.fail(new PluginFrameworkError(refusal.code, refusal.details));
  }

  private fail(err: unknown): void {
    if (isStatusError(err)) {
      const details = err.details ?? err.message;
      // Who, as what, and why: what an operator on call needs to fix RBAC or a plugin.
      this.ctx.refusalLog.warn(
        this.ctx.logger,
        {
          plugin: this.attemptedName,
          user: this.user,
          peer: this.call.getPeer(),
          code: err.code,
          codeName: status[err.code],
          reason: details,
        },
        this.session ? "plugin session ended by a protocol error" : "plugin refused",
      );
      this.end(err.code, details);
    } else {
      this.ctx.logger.error({ error: String(err) }, "plugin stream failed");
      this.end(status.INTERNAL, "internal error while handling the plugin stream");
    }
  }
}

function describe(message: PluginStreamMessage): string {
  return message.payload ? message.payload.$case : "an empty message";
}
