import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import {
  GreeterServiceClient,
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** What a unary handler can see of its call object, in comparable form. */
interface Seen {
  callClass: string;
  deadlineType: string;
  deadlineFinite: boolean;
  writable: boolean;
  recorderMethods: string[];
}

const seen: Seen[] = [];

const impl = {
  sayHello(
    call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
    callback: sendUnaryData<SayHelloResponse>,
  ) {
    const deadline = call.getDeadline();
    const recorder = call.getMetricsRecorder();
    seen.push({
      callClass: call.constructor.name,
      deadlineType: typeof deadline,
      deadlineFinite: Number.isFinite(deadline as number),
      writable: typeof (call as unknown as { write?: unknown }).write === "function",
      recorderMethods: Object.getOwnPropertyNames(Object.getPrototypeOf(recorder))
        .concat(Object.keys(recorder))
        .filter((key) => key.startsWith("record") && typeof Reflect.get(recorder, key) === "function")
        .sort(),
    });
    callback(null, { message: `hello ${call.request.name}`, servedBy: "parity" });
  },
};

/** The same handler behind a direct grpc-js server and behind the tunnel sees the same call surface. */
describe("a handler's call object through the tunnel matches a direct grpc-js server's", () => {
  let direct: Server;
  let client: GreeterServiceClient;
  let operator: Awaited<ReturnType<typeof startTestServer>>;
  let plugin: Awaited<ReturnType<typeof startTestPlugin>>;

  beforeAll(async () => {
    direct = new Server();
    direct.addService(GreeterServiceService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      direct.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    client = new GreeterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    operator = await startTestServer();
    plugin = await startTestPlugin({
      name: "parity",
      target: operator.target,
      services: [[GreeterServiceService, impl]],
      allowPartialImplementation: true,
    });
  });
  afterAll(async () => {
    client.close();
    direct.forceShutdown();
    await plugin.close();
    await operator.close();
  });

  const callDirect = (deadline?: number) =>
    new Promise<void>((resolve, reject) =>
      client.sayHello({ name: "x", delayMs: 0 }, new Metadata(), deadline ? { deadline } : {}, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  const callTunnel = async (timeoutMs?: number) => {
    await operator.registry
      .get("parity")
      .call(GreeterServiceService.sayHello, { name: "x", delayMs: 0 }, timeoutMs ? { timeoutMs } : {});
  };

  it("with a deadline: the same call class, a numeric deadline and the same recorder methods", async () => {
    seen.length = 0;
    await callDirect(Date.now() + 5_000);
    await callTunnel(5_000);
    const [viaDirect, viaTunnel] = seen;
    expect(viaDirect).toMatchObject({ callClass: "ServerWritableStreamImpl", deadlineType: "number" });
    expect(viaTunnel).toEqual(viaDirect);
  });

  it("without a deadline: Infinity on both", async () => {
    seen.length = 0;
    await callDirect();
    await callTunnel();
    const [viaDirect, viaTunnel] = seen;
    expect(viaDirect).toMatchObject({ deadlineType: "number", deadlineFinite: false });
    expect(viaTunnel).toEqual(viaDirect);
  });
});
