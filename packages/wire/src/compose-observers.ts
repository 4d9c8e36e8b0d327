import type { Metadata } from "@grpc/grpc-js";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import {
  type CallObserver,
  type DrainCause,
  noopCallObserver,
  noopSessionObserver,
  type SessionObserver,
} from "./observer.js";
import type { MethodHandler } from "./service-table.js";

/** Both observers of one call, in order. */
class BothCalls implements CallObserver {
  constructor(
    private readonly first: CallObserver,
    private readonly second: CallObserver,
  ) {}
  messageSent(bytes: number): void {
    this.first.messageSent(bytes);
    this.second.messageSent(bytes);
  }
  messageReceived(bytes: number): void {
    this.first.messageReceived(bytes);
    this.second.messageReceived(bytes);
  }
  flowStalled(ms: number): void {
    this.first.flowStalled(ms);
    this.second.flowStalled(ms);
  }
  end(code: number): void {
    this.first.end(code);
    this.second.end(code);
  }
  outgoing(entries: MetadataEntry[]): void {
    this.first.outgoing?.(entries);
    this.second.outgoing?.(entries);
  }
  run<T>(handler: () => T, call?: object): T {
    const { first, second } = this;
    // Metrics have no `run`: the handler goes straight to tracing, with no closure per call.
    if (!first.run) return second.run ? second.run(handler, call) : handler();
    if (!second.run) return first.run(handler, call);
    return first.run(() => second.run!(handler, call), call);
  }
}

/**
 * One call observer that feeds two (metrics and tracing). A no-op observer
 * drops out, so a call watched by one feature pays for one.
 */
export function composeCallObservers(first: CallObserver, second: CallObserver): CallObserver {
  if (first === noopCallObserver) return second;
  if (second === noopCallObserver) return first;
  return new BothCalls(first, second);
}

/** One session observer that feeds two; see {@link composeCallObservers}. */
export function composeSessionObservers(first: SessionObserver, second: SessionObserver): SessionObserver {
  if (first === noopSessionObserver) return second;
  if (second === noopSessionObserver) return first;
  return {
    callStarted: (method: string, incoming?: Metadata) =>
      composeCallObservers(first.callStarted(method, incoming), second.callStarted(method, incoming)),
    hostCallStarted: (method: string, kind: MethodHandler["kind"], incoming?: Metadata) =>
      composeCallObservers(
        first.hostCallStarted?.(method, kind, incoming) ?? noopCallObserver,
        second.hostCallStarted?.(method, kind, incoming) ?? noopCallObserver,
      ),
    drained(cause: DrainCause) {
      first.drained(cause);
      second.drained(cause);
    },
    livenessFailed() {
      first.livenessFailed();
      second.livenessFailed();
    },
    closed() {
      first.closed();
      second.closed();
    },
  };
}
