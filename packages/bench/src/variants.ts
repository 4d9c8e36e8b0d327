import { credentials, Server, ServerCredentials } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { TestServiceClient, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import type { TestCertificates } from "@operator-plugin-framework/testkit/tls";
import { BurstPipe, EchoPipe, FloorClient, floorService, floorServiceDefinition } from "./floor.js";
import { greeterService, testService } from "./services.js";

/** direct, floor: baselines; tunnel: plugin to operator; proxy: the same through the fake kube-rbac-proxy. */
export type VariantName = "direct" | "tunnel" | "proxy" | "floor";

/** One way of reaching the benchmark services. */
export interface Variant {
  readonly name: VariantName;
  /** A function making one unary round trip with these payload sizes. */
  unary(requestBytes: number, responseBytes: number): () => Promise<void>;
  /** Receives up to `count` server-streamed messages of about 64 bytes within `maxMs`; resolves with how many arrived. */
  stream(count: number, maxMs: number): Promise<number>;
  close(): Promise<void>;
}

const zeros = Buffer.alloc(4 * 1024 * 1024);
const BIG = { "grpc.max_receive_message_length": 16 * 1024 * 1024, "grpc.max_send_message_length": -1 };

type Greeter = InstanceType<typeof GreeterServiceClient>;
type Tester = InstanceType<typeof TestServiceClient>;

function protoVariant(
  name: VariantName,
  tester: Tester,
  greeter: Greeter,
  close: () => Promise<void>,
): Variant {
  return {
    name,
    unary(requestBytes, responseBytes) {
      const request = {
        responseSize: responseBytes,
        payload: { body: zeros.subarray(0, requestBytes) },
        responseStatus: undefined,
        sleepMs: 0,
      };
      return () =>
        new Promise<void>((resolve, reject) => {
          tester.unaryCall(request, (err) => (err ? reject(err) : resolve()));
        });
    },
    stream(count, maxMs) {
      return new Promise<number>((resolve, reject) => {
        let received = 0;
        const call = greeter.countGreetings({ name: "", count });
        // Bounded in time too: at maxMs, cancel and count what arrived.
        const timer = setTimeout(() => {
          call.removeAllListeners("error").on("error", () => {});
          call.cancel();
          resolve(received);
        }, maxMs);
        call.on("data", () => received++);
        call.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
        call.on("end", () => {
          clearTimeout(timer);
          if (received === count) resolve(received);
          else reject(new Error(`stream ended after ${received} of ${count} messages`));
        });
      });
    },
    close,
  };
}

/** grpc-js client → grpc-js server over loopback TCP. Also hosts the floor's raw service. */
export async function startDirect(): Promise<{ direct: Variant; floor: Variant }> {
  const server = new Server(BIG);
  server.addService(TestServiceService, testService);
  server.addService(GreeterServiceService, greeterService);
  server.addService(floorServiceDefinition, floorService);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const address = `127.0.0.1:${port}`;
  const insecure = credentials.createInsecure();
  const tester = new TestServiceClient(address, insecure, BIG);
  const greeter = new GreeterServiceClient(address, insecure, BIG);
  const floorClient = new FloorClient(address, insecure, BIG);
  const echo = new EchoPipe(floorClient.echo());
  let closed: Promise<void> | undefined;
  const closeAll = () => {
    closed ??= (async () => {
      echo.close();
      for (const c of [tester, greeter, floorClient]) c.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    })();
    return closed;
  };
  const direct = protoVariant("direct", tester, greeter, closeAll);
  const floor: Variant = {
    name: "floor",
    unary(requestBytes) {
      // One message each way; the echo is as large as the request.
      const message = Buffer.alloc(requestBytes);
      return () => echo.ping(message);
    },
    // A fresh stream per run, so a run cut short cannot spill into the next.
    stream: (count, maxMs) => new BurstPipe(floorClient.burst()).receive(count, 64, maxMs),
    close: closeAll,
  };
  return { direct, floor };
}

/**
 * Operator (a plugin server) and one plugin in this process; calls go through
 * the plugin's stream. With `certs`, the plugin reaches the operator through
 * the testkit's fake kube-rbac-proxy (TLS + bearer token in, h2c out), as in
 * a cluster.
 */
export async function startTunnel(certs?: TestCertificates): Promise<Variant> {
  const limit = 16 * 1024 * 1024;
  const operator = await startTestServer({ maxReceiveMessageSize: limit, maxSendMessageSize: limit });
  const cleanups: (() => Promise<void>)[] = [() => operator.close()];
  try {
    let target = operator.target;
    let tls: { ca: string } | undefined;
    if (certs) {
      const proxy = await startFakeKubeRbacProxy({
        upstream: operator.target,
        tls: certs.server,
        authenticate: async () => ({ user: "system:serviceaccount:bench:plugin", groups: [] }),
        authorize: async () => true,
      });
      cleanups.unshift(() => proxy.close());
      target = proxy.url;
      tls = { ca: certs.ca.cert };
    }
    const plugin = await startTestPlugin({
      name: "bench",
      target,
      ...(tls ? { tls, token: "bench-token" } : {}),
      maxReceiveMessageSize: limit,
      maxSendMessageSize: limit,
      services: [
        [TestServiceService, testService],
        [GreeterServiceService, greeterService],
      ],
    });
    cleanups.unshift(() => plugin.close());
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw err;
  }
  const handle = operator.registry.get("bench");
  const tester = handle.client(TestServiceClient, BIG);
  const greeter = handle.client(GreeterServiceClient, BIG);
  return protoVariant(certs ? "proxy" : "tunnel", tester, greeter, async () => {
    tester.close();
    greeter.close();
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  });
}
