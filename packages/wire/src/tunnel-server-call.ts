import { Metadata, status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import { PluginFrameworkError, protocolViolation } from "./errors.js";
import type { FrameScheduler } from "./frame-scheduler.js";
import type {
  InterceptingServerListener,
  PartialStatusObject,
  ServerInterceptingCallInterface,
} from "./grpc-internals.js";
import { noopMetricsRecorder } from "./grpc-server-call.js";
import { metadataToEntries } from "./metadata.js";
import type { CallObserver, SessionObserver } from "./observer.js";
import { OutboundStream } from "./outbound-stream.js";
import { ReceiveFlow } from "./receive-flow.js";
import type { MethodHandler } from "./service-table.js";
import type { NegotiatedSettings, SessionLimits } from "./session-types.js";

type FrameKind = NonNullable<Frame["kind"]>;
type AuthContext = ReturnType<ServerInterceptingCallInterface["getAuthContext"]>;
type ConnectionInfo = ReturnType<ServerInterceptingCallInterface["getConnectionInfo"]>;
type MetricsRecorder = ReturnType<ServerInterceptingCallInterface["getMetricsRecorder"]>;

const DETAILS_KEY = "grpc-status-details-bin";

/** What a served call needs from the session it runs on (see HandlerCalls). */
export interface HandlerSession {
  readonly scheduler: FrameScheduler;
  readonly settings: NegotiatedSettings;
  readonly limits: SessionLimits;
  readonly observer: SessionObserver;
  /** What `getPeer()` answers: who called. */
  readonly peer: string;
  /** What `getHost()` answers: the authority the caller addressed. */
  readonly host: string;
  /** The call with this id ended. */
  release(streamId: number): void;
}

/**
 * One tunnelled call served by this side: a plugin's method called by the
 * operator, or an operator's host service called by a plugin. It is the
 * small interface grpc-js builds its handler-facing call objects on, so
 * handlers get grpc-js's own ServerUnaryCall / ServerReadableStream / ...
 * objects, as with addService.
 */
export class TunnelServerCall implements ServerInterceptingCallInterface {
  private listener: InterceptingServerListener | undefined;
  private readonly out: OutboundStream;
  private readonly flow: ReceiveFlow;
  private readsWanted = 0;
  private halfCloseReceived = false;
  private halfCloseDelivered = false;
  private headersSent = false;
  private ended = false;
  private readonly deadline: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Watches this call (metrics, tracing); its handler runs through the observer's `run`. */
  readonly observer: CallObserver;

  constructor(
    private readonly session: HandlerSession,
    readonly streamId: number,
    private readonly handler: MethodHandler,
    private readonly metadata: Metadata,
    timeoutMs: number | undefined,
  ) {
    this.observer = session.observer.callStarted(handler.path, metadata);
    const { peer, local } = session.settings;
    this.out = new OutboundStream(streamId, session.scheduler, peer.initialWindowSize, peer.maxChunkSize);
    this.flow = new ReceiveFlow({
      windowSize: local.initialWindowSize,
      maxChunkSize: local.maxChunkSize,
      maxMessageSize: session.limits.maxReceiveMessageSize,
      grant: (increment) =>
        session.scheduler.sendControl({ streamId, kind: { $case: "windowUpdate", value: { increment } } }),
    });
    this.deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    if (timeoutMs !== undefined) {
      this.deadlineTimer = setTimeout(() => {
        this.sendStatus({ code: status.DEADLINE_EXCEEDED, details: "Deadline exceeded" });
        this.listener?.onCancel();
      }, timeoutMs);
    }
  }

  /** Whether the call has ended (status sent, cancelled, or the session closed). */
  get done(): boolean {
    return this.ended;
  }

  start(listener: InterceptingServerListener): void {
    this.listener = listener;
    listener.onReceiveMetadata(this.metadata);
  }

  sendMetadata(metadata: Metadata): void {
    if (this.ended || this.headersSent) return;
    this.headersSent = true;
    this.out.pushFrame({ $case: "headers", value: { metadata: metadataToEntries(metadata) } });
  }

  sendMessage(message: unknown, callback: () => void): void {
    if (this.ended) return callback();
    let bytes: Buffer;
    try {
      bytes = this.handler.serialize(message);
    } catch (err) {
      this.sendStatus({
        code: status.INTERNAL,
        details: `Error serializing response: ${(err as Error).message}`,
      });
      return callback();
    }
    const limit = this.session.limits.maxSendMessageSize;
    if (bytes.length > limit) {
      this.sendStatus({
        code: status.RESOURCE_EXHAUSTED,
        details: `Sent message larger than max (${bytes.length} vs. ${limit})`,
      });
      return callback();
    }
    // Data before headers implies empty headers on the wire.
    this.headersSent = true;
    this.out.pushMessage(bytes, callback);
  }

  sendStatus(result: PartialStatusObject): void {
    if (this.ended) return;
    const trailers = result.metadata ?? new Metadata();
    const details = trailers.get(DETAILS_KEY)[0];
    this.out.pushFrame({
      $case: "status",
      value: {
        code: result.code,
        message: result.details ?? "",
        details: Buffer.isBuffer(details) ? details : Buffer.alloc(0),
        trailers: metadataToEntries(trailers).filter((entry) => entry.key !== DETAILS_KEY),
      },
    });
    this.end(result.code);
  }

  startRead(): void {
    this.readsWanted++;
    this.deliver();
  }

  getPeer(): string {
    return this.session.peer;
  }
  /** A number, as grpc-js's: milliseconds since the epoch, or Infinity without a deadline. */
  getDeadline(): number {
    return this.deadline;
  }
  getHost(): string {
    return this.session.host;
  }
  getAuthContext(): AuthContext {
    return {};
  }
  getConnectionInfo(): ConnectionInfo {
    return {};
  }
  getMetricsRecorder(): MetricsRecorder {
    return noopMetricsRecorder;
  }

  /** A frame from the caller for this call. */
  onFrame(kind: FrameKind): void {
    if (this.ended) return;
    try {
      switch (kind.$case) {
        case "data":
          if (this.halfCloseReceived) throw protocolViolation("data after half_close");
          if (this.flow.accept(kind.value.data, kind.value.more)) this.deliver();
          return;
        case "halfClose":
          if (this.flow.assembling) throw protocolViolation("half_close in the middle of a message");
          this.halfCloseReceived = true;
          this.deliver();
          return;
        case "windowUpdate":
          this.out.addWindow(kind.value.increment);
          return;
        case "cancel":
          this.cancel();
          return;
        default:
          throw protocolViolation(`unexpected ${kind.$case} frame for an open call`);
      }
    } catch (err) {
      const error = PluginFrameworkError.from(err, status.INTERNAL);
      this.fail(error.code, error.details);
    }
  }

  /** Ends the call with a framework status; the handler sees `cancelled`. */
  fail(code: status, details: string): void {
    if (this.ended) return;
    this.out.clear();
    this.sendStatus({ code, details });
    this.listener?.onCancel();
  }

  /** The caller cancelled, or the session ended: the handler sees `cancelled`. */
  cancel(): void {
    if (this.ended) return;
    this.out.clear();
    this.end(status.CANCELLED);
    this.listener?.onCancel();
  }

  private deliver(): void {
    while (this.readsWanted > 0 && !this.ended) {
      const bytes = this.flow.read();
      if (bytes) {
        this.readsWanted--;
        let message: unknown;
        try {
          message = this.handler.deserialize(bytes);
        } catch (err) {
          this.sendStatus({
            code: status.INTERNAL,
            details: `Error deserializing request: ${(err as Error).message}`,
          });
          return;
        }
        this.listener?.onReceiveMessage(message);
        continue;
      }
      if (this.halfCloseReceived && !this.halfCloseDelivered) {
        this.readsWanted--;
        this.halfCloseDelivered = true;
        this.listener?.onReceiveHalfClose();
      }
      return;
    }
  }

  private end(code: status): void {
    this.ended = true;
    this.observer.end(code);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.session.release(this.streamId);
  }
}
