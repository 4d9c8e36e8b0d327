// The callee role: everything that answers calls. A grpc-js server (direct
// and floor variants) and the plugin connections (tunnel variants), all
// serving the same service implementations.
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection, quietLogger } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { TestServiceService } from "@operator-plugin-framework/proto/testing";
import { floorService, floorServiceDefinition } from "./floor.js";
import { BIG, LIMIT } from "./limits.js";
import { observabilityOff, observabilityOn, type Sampling } from "./observability.js";
import { greeterService, testService } from "./services.js";
import type { Handlers } from "./worker-protocol.js";

/** Arguments of the callee's `connectPlugin`. */
export interface ConnectArgs {
  name: string;
  target: string;
  /** CA (PEM) and bearer token, when the target is the fake kube-rbac-proxy. */
  tls?: { ca: string };
  token?: string;
  /** Metrics and tracing on, with this sampling, for the observed variants. */
  observed?: Sampling;
}

export function createCallee(): Handlers {
  let server: Server | undefined;
  const connections: PluginConnection[] = [];
  return {
    /** Starts the grpc-js server of the direct and floor variants; resolves with its target. */
    async startServer(): Promise<string> {
      server = new Server(BIG);
      server.addService(TestServiceService, testService);
      server.addService(GreeterServiceService, greeterService);
      server.addService(floorServiceDefinition, floorService);
      const s = server;
      const port = await new Promise<number>((resolve, reject) =>
        s.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
      return `127.0.0.1:${port}`;
    },
    /** Connects one plugin to the operator and resolves once it is registered. */
    async connectPlugin(args: ConnectArgs): Promise<void> {
      const connection = connectPlugin({
        name: args.name,
        target: args.target,
        ...(args.tls ? { tls: args.tls, token: args.token } : {}),
        ...(args.observed ? observabilityOn(args.observed) : {}),
        drainGraceMs: 1_000,
        logger: quietLogger,
        maxReceiveMessageSize: LIMIT,
        maxSendMessageSize: LIMIT,
        services: [
          [TestServiceService, testService],
          [GreeterServiceService, greeterService],
        ],
      });
      connections.push(connection);
      await connection.registered();
    },
    async close(): Promise<void> {
      await Promise.allSettled(connections.map((c) => c.close()));
      await observabilityOff();
      const s = server;
      if (s) await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
    },
  };
}
