import type { PluginIdentity } from "@operator-plugin-framework/auth";
import {
  type FrameScheduler,
  HandlerCalls,
  type Logger,
  type NegotiatedSettings,
  noopCallObserver,
  noopSessionObserver,
  type SessionLimits,
  type SessionObserver,
} from "@operator-plugin-framework/wire";
import { attachHostCallContext, type HostCallAuthorizer, hostCallAdmission } from "./host-call-context.js";
import type { HostServices } from "./host-services.js";

/** What a server offers plugins that speak revision 2. */
export interface HostServing {
  services: HostServices;
  authorize: HostCallAuthorizer | undefined;
  logger: Logger;
}

/** The session a plugin's host-service calls arrive on. */
export interface HostCallSession {
  readonly id: string;
  readonly name: string;
  readonly identity: PluginIdentity | undefined;
  readonly scheduler: FrameScheduler;
  readonly settings: NegotiatedSettings;
  readonly limits: SessionLimits;
  readonly peerLabel: string;
  /** Watches the session; its `hostCallStarted` sees the host calls. Read at each call. */
  readonly observer: SessionObserver;
}

/**
 * The operator's handler role on one revision-2 session: serves the
 * plugin's calls to host services, with the receiving bounds the operator's
 * own calls have (window, chunk and message size from its settings), and
 * at most `maxConcurrentStreams` of them open at once (announced in the ack).
 */
export function createHostCalls(
  session: HostCallSession,
  serving: HostServing,
  authority: string,
  onRelease: () => void,
): HandlerCalls {
  const context = { pluginName: session.name, identity: session.identity, sessionId: session.id };
  const { handlers } = serving.services;
  // Only calls with a handler are observed, so `kind` is always found.
  const hostObserver: SessionObserver = {
    ...noopSessionObserver,
    callStarted: (method, incoming) =>
      session.observer.hostCallStarted?.(method, handlers.get(method)?.kind ?? "unary", incoming) ??
      noopCallObserver,
  };
  return new HandlerCalls({
    handlers,
    scheduler: session.scheduler,
    settings: session.settings,
    limits: session.limits,
    peer: session.peerLabel,
    host: authority,
    // The session observer's host-call hook, not its callStarted: the latter
    // counts calls *to* the plugin, labelled by the methods the plugin announced.
    observer: () => hostObserver,
    unimplemented: (method) => serving.services.unimplemented(method),
    overLimit: (open, limit) =>
      `plugin "${session.name}" has ${open} host-service calls open, the operator's limit ` +
      `(max_concurrent_streams in register_ack) is ${limit}; wait for a call to end before opening another`,
    admit: serving.authorize ? hostCallAdmission(serving.authorize, context, serving.logger) : undefined,
    onCallObject: (callObject) => attachHostCallContext(callObject, context),
    onRelease,
  });
}
