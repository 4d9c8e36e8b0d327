import { status } from "@grpc/grpc-js";
import type { PluginRPCCall } from "@operator-plugin-framework/proto";
import { type FrameScheduler, goCodeName, type MethodHandler } from "@operator-plugin-framework/wire";
import { serveSeedCall } from "./seed-server-call.js";

/**
 * The plugin side of a session with a seed-protocol operator (the Go
 * prototype), the counterpart of the operator's SeedSession: every
 * `rpc_call` is one unary call, answered with `rpc_response` or `error`
 * through the stream's one scheduler. A seed operator never acknowledges the
 * registration; its first call is what shows the plugin is admitted.
 */
export class SeedSession {
  private open = 0;
  private accepting = true;
  private closed = false;
  /** Called whenever the last open call ends. */
  onIdle: () => void = () => {};

  constructor(
    private readonly handlers: ReadonlyMap<string, MethodHandler>,
    private readonly scheduler: FrameScheduler,
  ) {}

  /** Calls open now. */
  get inFlight(): number {
    return this.open;
  }

  /** One call from the operator. */
  onRpcCall(rpc: PluginRPCCall): void {
    if (this.closed) return;
    if (!this.accepting) {
      // A seed operator cannot be told the plugin is leaving; refuse instead.
      const code = status.UNAVAILABLE;
      return this.scheduler.sendMessage({
        payload: {
          $case: "error",
          value: {
            message: "plugin is shutting down; retry on another replica",
            code: goCodeName(code),
            requestId: rpc.requestId,
            grpcCode: code,
          },
        },
      });
    }
    this.open++;
    let answered = false;
    serveSeedCall(rpc, this.handlers, (message) => {
      if (answered || this.closed) return;
      answered = true;
      this.scheduler.sendMessage(message);
      if (--this.open === 0) this.onIdle();
    });
  }

  /** New calls are refused with UNAVAILABLE from now on; open ones go on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** The stream ended: answers of calls still open are dropped. */
  close(): void {
    this.closed = true;
    this.open = 0;
  }
}
