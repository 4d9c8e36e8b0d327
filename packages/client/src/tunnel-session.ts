import type { Frame, Settings } from "@operator-plugin-framework/proto";
import {
  type FrameScheduler,
  HandlerCalls,
  type MethodHandler,
  noopSessionObserver,
  protocolViolation,
  type SessionObserver,
} from "@operator-plugin-framework/wire";

/** Limits the plugin applies to the calls it serves. */
export interface ServeLimits {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
  maxConcurrentStreams: number;
}

/**
 * The plugin side of one revision-1 session, the counterpart of the
 * operator's TunnelSession: serves a handler call for each new_stream (the
 * wire package's HandlerCalls, the handler role both sides share). Everything
 * it sends goes through the stream's one scheduler.
 */
export class TunnelSession {
  private readonly served: HandlerCalls;
  /** Called whenever the last open call ends. */
  onIdle: () => void = () => {};
  /** Observes this session's calls (metrics). */
  observer: SessionObserver = noopSessionObserver;

  constructor(
    handlers: ReadonlyMap<string, MethodHandler>,
    readonly scheduler: FrameScheduler,
    readonly settings: { local: Required<Settings>; peer: Required<Settings> },
    readonly limits: ServeLimits,
    readonly peer: string,
    readonly host: string,
  ) {
    this.served = new HandlerCalls({
      handlers,
      scheduler,
      settings,
      limits,
      peer,
      host,
      observer: () => this.observer,
      unimplemented: (method) => `The server does not implement the method ${method}`,
      overLimit: (open, limit) => `plugin has ${open} calls open, the limit is ${limit}`,
      onRelease: () => {
        if (this.served.size === 0) this.onIdle();
      },
    });
  }

  /** Calls open now. */
  get inFlight(): number {
    return this.served.size;
  }

  /** Frames from the operator. Throws INVALID_ARGUMENT for a violation that breaks the session. */
  onFrames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      if (!frame.kind) throw protocolViolation(`frame for stream ${frame.streamId} has no kind`);
      this.served.onFrame(frame);
    }
  }

  /** New calls are refused with UNAVAILABLE from now on; open ones go on. */
  stopAccepting(): void {
    this.served.stopAccepting("plugin is shutting down");
  }

  /** The session ended: every open call is cancelled, its handler sees `cancelled`. */
  close(): void {
    this.served.close();
  }
}
