import type { status } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";

/** The plugin's gRPC stream, as a session uses it. */
export interface SessionTransport {
  /**
   * Writes one message; false means wait for the `drain` callback.
   * `onWritten` runs once the stream has written it out.
   */
  write(message: PluginStreamMessage, onWritten?: () => void): boolean;
  /** Registers the callback for when a refused write may be retried. */
  onDrain(callback: () => void): void;
  /** Ends the stream with a status (OK for a normal end). Idempotent. */
  end(code: status, details: string): void;
}
