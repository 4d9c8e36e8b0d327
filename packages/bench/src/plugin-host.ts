// A process holding many plugins of the scale scenario, each with its own
// HTTP/2 connection to the operator, as separate pods would have.
import { setPriority } from "node:os";
import { setImmediate } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection, quietLogger } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { greeterService } from "./services.js";
import type { Handlers } from "./worker-protocol.js";

/** How often plugins of one host were refused or lost their session, by status code name. */
export type Refusals = Record<string, number>;

export function createPluginHost(): Handlers {
  const connections: PluginConnection[] = [];
  // Every failed attempt, counted by code: whether the operator's caps
  // (RESOURCE_EXHAUSTED) shed part of a storm, and how many retries it cost.
  let refusals: Refusals = {};
  let examples: Record<string, string> = {};
  return {
    /** Sets this process's nice value (see `ScaleOptions.pluginNice`). */
    nice(args: { value: number }): void {
      setPriority(0, args.value);
    },
    /** Starts connecting one plugin per name; resolves once all have started (the operator counts registrations). */
    async connect(args: { target: string; names: string[] }): Promise<void> {
      for (const [i, name] of args.names.entries()) {
        // Pods do not start in one event-loop turn either: a host that built
        // 2,500 channels in one turn would stall its own connections for seconds.
        if (i % 100 === 99) await setImmediate();
        const connection = connectPlugin({
          name,
          target: args.target,
          services: [[GreeterServiceService, greeterService]],
          drainGraceMs: 1_000,
          logger: quietLogger,
          grpcOptions: { "grpc.use_local_subchannel_pool": 1 },
        });
        connection.onState((state) => {
          if (state.state !== "reconnecting" && state.state !== "rejected") return;
          const code = status[state.code] ?? String(state.code);
          refusals[code] = (refusals[code] ?? 0) + 1;
          // One example of each status's details, to tell a cap's refusal from a timeout.
          examples[code] ??= state.details.slice(0, 160);
        });
        connections.push(connection);
      }
    },
    /** Failed attempts since the last call, by code, and one example of each code's details; resets both. */
    refusals(): { counts: Refusals; examples: Record<string, string> } {
      const counted = { counts: refusals, examples };
      refusals = {};
      examples = {};
      return counted;
    },
    async close(): Promise<void> {
      await Promise.allSettled(connections.map((c) => c.close()));
      connections.length = 0;
    },
  };
}
