// A process holding many plugins of the scale scenario, each with its own
// HTTP/2 connection to the operator, as separate pods would have.
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { greeterService } from "./services.js";
import type { Handlers } from "./worker-protocol.js";

export function createPluginHost(): Handlers {
  const connections: PluginConnection[] = [];
  return {
    /** Starts connecting one plugin per name; returns at once (the operator counts registrations). */
    connect(args: { target: string; names: string[] }): void {
      for (const name of args.names) {
        connections.push(
          connectPlugin({
            name,
            target: args.target,
            services: [[GreeterServiceService, greeterService]],
            drainGraceMs: 1_000,
            grpcOptions: { "grpc.use_local_subchannel_pool": 1 },
          }),
        );
      }
    },
    async close(): Promise<void> {
      await Promise.allSettled(connections.map((c) => c.close()));
      connections.length = 0;
    },
  };
}
