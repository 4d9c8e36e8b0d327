import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  GreeterServiceClient,
  type GreeterServiceServer,
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import type { TestCertificates } from "../tls/index.js";
import { startFakeKubeRbacProxy } from "./fake-kube-rbac-proxy.js";
import type { FakeKubeRbacProxy, FakeKubeRbacProxyOptions, ProxyAuthorizationAttributes } from "./types.js";

/**
 * Test support for the proxy tests: a grpc-js Greeter on 127.0.0.1:0 (or a
 * unix socket) that records the metadata of every call it receives, and a
 * TLS client for the proxy in front of it.
 */
export interface GreeterUpstream {
  /** `http://127.0.0.1:PORT` or `unix:///path`, as the proxy's `upstream` option. */
  upstream: string;
  /** Metadata of every call, in arrival order. */
  received: grpc.Metadata[];
  /** Resolves with the upstream handler's view when the server side of a Chat call is cancelled. */
  chatCancelled: () => Promise<void>;
  close(): Promise<void>;
}

/** Metadata key that makes Chat end with a custom status and trailers once the client half-closes. */
export const END_WITH_STATUS = "x-end-with-status";

export async function startGreeterUpstream(address = "127.0.0.1:0"): Promise<GreeterUpstream> {
  const received: grpc.Metadata[] = [];
  const cancelWaiters: Array<() => void> = [];
  const server = new grpc.Server();
  const greeter: GreeterServiceServer = {
    sayHello(call, callback) {
      received.push(call.metadata);
      callback(null, { message: `hello ${call.request.name}`, servedBy: "upstream" });
    },
    countGreetings(call) {
      received.push(call.metadata);
      for (let i = 0; i < call.request.count; i++) call.write({ message: `${i}`, servedBy: "upstream" });
      call.end();
    },
    collectNames(call, callback) {
      received.push(call.metadata);
      const names: string[] = [];
      call.on("data", (req: SayHelloRequest) => names.push(req.name));
      call.on("end", () => callback(null, { message: names.join(","), servedBy: "upstream" }));
    },
    chat(call) {
      received.push(call.metadata);
      const initial = new grpc.Metadata();
      initial.set("x-initial", "from-upstream");
      call.sendMetadata(initial);
      call.on("cancelled", () => {
        for (const waiter of cancelWaiters.splice(0)) waiter();
      });
      call.on("data", (req: SayHelloRequest) =>
        call.write({ message: `hello ${req.name}`, servedBy: "upstream" }),
      );
      call.on("end", () => {
        if (call.metadata.get(END_WITH_STATUS).length === 0) {
          call.end();
          return;
        }
        const trailers = new grpc.Metadata();
        trailers.set("x-trailer", "kept");
        trailers.set("x-trailer-bin", Buffer.from([0, 1, 2, 255]));
        call.emit("error", {
          code: grpc.status.FAILED_PRECONDITION,
          details: "plugin says no: ünïcödé % done",
          metadata: trailers,
        });
      });
    },
  };
  server.addService(GreeterServiceService, greeter);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    upstream: address.startsWith("unix:") ? address : `http://127.0.0.1:${port}`,
    received,
    chatCancelled: () => new Promise<void>((resolve) => cancelWaiters.push(resolve)),
    close: async () => server.forceShutdown(),
  };
}

/**
 * A Greeter client that trusts `caPem` and dials the proxy's port. It checks
 * the certificate for "localhost" (TLS SNI must not be an IP address).
 */
export function greeterClient(port: number, caPem: string): GreeterServiceClient {
  return new GreeterServiceClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(caPem)), {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
  });
}

/** Metadata carrying `authorization: Bearer <token>` plus extra entries. */
export function bearer(token: string | undefined, extra: Record<string, string> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  for (const [key, value] of Object.entries(extra)) md.set(key, value);
  return md;
}

/** Runs SayHello and settles with the response or the gRPC error. */
export function sayHello(
  client: GreeterServiceClient,
  metadata: grpc.Metadata,
): Promise<{ response?: SayHelloResponse; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    client.sayHello({ name: "proxy", delayMs: 0 }, metadata, (error, response) =>
      resolve(error ? { error } : { response }),
    );
  });
}

/** Resolves with the error a streaming call ends with. */
export async function callError(call: NodeJS.EventEmitter): Promise<grpc.ServiceError> {
  const [error] = (await once(call, "error")) as [grpc.ServiceError];
  return error;
}

/** The identity the fixture's authenticator gives the token "good-token". */
export const ALICE = {
  user: "system:serviceaccount:plugins:aws",
  groups: ["system:serviceaccounts", "system:authenticated"],
};

export interface ProxyFixture {
  greeter: GreeterUpstream;
  proxy: FakeKubeRbacProxy;
  client: GreeterServiceClient;
  /** Every authorization the proxy asked for. */
  authorizeCalls: ProxyAuthorizationAttributes[];
}

/**
 * An upstream Greeter, the proxy in front of it (token "good-token" is
 * {@link ALICE}, who is allowed everything) and a TLS client. Their release
 * functions are pushed onto `cleanups`, to run after each test.
 */
export async function startProxyFixture(
  certs: TestCertificates,
  cleanups: Array<() => unknown>,
  options: Partial<FakeKubeRbacProxyOptions> = {},
): Promise<ProxyFixture> {
  const greeter = await startGreeterUpstream();
  cleanups.push(() => greeter.close());
  const authorizeCalls: ProxyAuthorizationAttributes[] = [];
  const proxy = await startFakeKubeRbacProxy({
    upstream: greeter.upstream,
    tls: certs.server,
    authenticate: async (token) => (token === "good-token" ? ALICE : undefined),
    authorize: async (attributes) => {
      authorizeCalls.push(attributes);
      return attributes.user === ALICE.user;
    },
    ...options,
  });
  cleanups.push(() => proxy.close());
  const client = greeterClient(proxy.port, certs.ca.cert);
  cleanups.push(() => client.close());
  return { greeter, proxy, client, authorizeCalls };
}
