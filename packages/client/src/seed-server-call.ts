import { Metadata, status } from "@grpc/grpc-js";
import type { PluginRPCCall, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  goCodeName,
  type InterceptingServerListener,
  invokeHandler,
  type MethodHandler,
  noopMetricsRecorder,
  type PartialStatusObject,
  type ServerInterceptingCallInterface,
} from "@operator-plugin-framework/wire";

/**
 * Answers one `rpc_call` from a seed-protocol operator: a unary call with no
 * metadata and no deadline on the wire, answered with `rpc_response`, or
 * with `error` carrying the Go name of the code (and, additionally, the
 * request id and numeric code, which a seed operator ignores).
 */
export function serveSeedCall(
  rpc: PluginRPCCall,
  handlers: ReadonlyMap<string, MethodHandler>,
  write: (message: PluginStreamMessage) => void,
): void {
  const handler = findHandler(rpc.method, handlers);
  const fail = (code: status, message: string) =>
    write({
      payload: {
        $case: "error",
        value: { message, code: goCodeName(code), requestId: rpc.requestId, grpcCode: code },
      },
    });
  if (handler?.kind !== "unary") {
    return fail(status.UNIMPLEMENTED, `unknown method ${rpc.method}`);
  }
  invokeHandler(new SeedServerCall(rpc, handler, write, fail), handler);
}

// Seed operators send the full path; seed plugins matched the last segment,
// so accept either.
function findHandler(
  method: string,
  handlers: ReadonlyMap<string, MethodHandler>,
): MethodHandler | undefined {
  const exact = handlers.get(method);
  if (exact) return exact;
  const name = method.slice(method.lastIndexOf("/") + 1);
  for (const handler of handlers.values()) if (handler.path.endsWith(`/${name}`)) return handler;
  return undefined;
}

type AuthContext = ReturnType<ServerInterceptingCallInterface["getAuthContext"]>;
type ConnectionInfo = ReturnType<ServerInterceptingCallInterface["getConnectionInfo"]>;
type MetricsRecorder = ReturnType<ServerInterceptingCallInterface["getMetricsRecorder"]>;

class SeedServerCall implements ServerInterceptingCallInterface {
  private listener: InterceptingServerListener | undefined;
  private response: Buffer | undefined;
  private ended = false;

  constructor(
    private readonly rpc: PluginRPCCall,
    private readonly handler: MethodHandler,
    private readonly write: (message: PluginStreamMessage) => void,
    private readonly fail: (code: status, message: string) => void,
  ) {}

  start(listener: InterceptingServerListener): void {
    this.listener = listener;
    listener.onReceiveMetadata(new Metadata());
  }
  startRead(): void {
    const listener = this.listener!;
    if (!this.readOnce) {
      this.readOnce = true;
      let request: unknown;
      try {
        request = this.handler.deserialize(this.rpc.payload);
      } catch (err) {
        return this.sendStatus({
          code: status.INTERNAL,
          details: `Error deserializing request: ${(err as Error).message}`,
        });
      }
      return listener.onReceiveMessage(request);
    }
    listener.onReceiveHalfClose();
  }
  private readOnce = false;
  sendMetadata(): void {}
  sendMessage(message: unknown, callback: () => void): void {
    try {
      this.response = this.handler.serialize(message);
    } catch (err) {
      this.sendStatus({
        code: status.INTERNAL,
        details: `Error serializing response: ${(err as Error).message}`,
      });
    }
    callback();
  }
  sendStatus(result: PartialStatusObject): void {
    if (this.ended) return;
    this.ended = true;
    if (result.code === status.OK && this.response) {
      this.write({
        payload: { $case: "rpcResponse", value: { requestId: this.rpc.requestId, payload: this.response } },
      });
    } else {
      this.fail(result.code === status.OK ? status.INTERNAL : result.code, result.details ?? "");
    }
  }
  getPeer(): string {
    return "operator";
  }
  /** Infinity, as grpc-js's for a call without a deadline: the seed protocol carries none. */
  getDeadline(): number {
    return Number.POSITIVE_INFINITY;
  }
  getHost(): string {
    return "operator";
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
}
