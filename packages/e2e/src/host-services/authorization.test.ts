import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import {
  subjectAccessReviewNameAuthorizer,
  tokenReviewAuthenticator,
} from "@operator-plugin-framework/auth/operator";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import {
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { hostCallContext } from "@operator-plugin-framework/server";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "../greeter-impl.js";

const AUDIENCE = "operator-plugin-framework";
const sa = (name: string) => `system:serviceaccount:plugins:${name}`;
const HELLO = "/example.v1.GreeterService/SayHello";

/**
 * The operator's authorization hook for host calls, with identities from
 * the real TokenReview and SubjectAccessReview against the testkit's fake
 * Kubernetes API: it allows one plugin's identity and denies another's,
 * and a denied call never reaches the handler.
 */
describe("host-service authorization by the caller's Kubernetes identity", () => {
  let kube: Awaited<ReturnType<typeof startFakeKubeApi>>;
  let operator: TestServer;
  const handled: string[] = [];
  const connections: PluginConnection[] = [];

  const connect = async (name: string) => {
    const connection = connectPlugin({
      name,
      target: operator.target.replace("http://", "https://"),
      tls: { ca: ca },
      token: `${name}-token`,
      services: [[GreeterServiceService, createGreeter(name).impl]],
      backoff: { initialMs: 50, maxMs: 500 },
    });
    connections.push(connection);
    await connection.registered({ timeoutMs: 20_000 });
    return connection;
  };
  let ca: string;

  beforeAll(async () => {
    kube = await startFakeKubeApi();
    for (const name of ["aws", "gcp"]) {
      kube.tokens.set(`${name}-token`, {
        user: sa(name),
        groups: ["system:authenticated"],
        audiences: [AUDIENCE],
      });
      kube.rules.allow({
        user: sa(name),
        nonResourceAttributes: { path: PLUGIN_STREAM_PATH, verb: "create" },
      });
      kube.rules.allow({
        user: sa(name),
        resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name },
      });
    }
    const certs = await createTestCertificates();
    ca = certs.ca.cert;
    operator = await startTestServer({
      tls: certs.server,
      authenticator: tokenReviewAuthenticator({ kubeConfig: kube.kubeConfig(), audiences: [AUDIENCE] }),
      authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig: kube.kubeConfig() }),
      authorizeHostCall: ({ identity }) => identity?.user === sa("aws"),
      hostServices: [
        [
          GreeterServiceService,
          {
            sayHello(
              call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
              callback: sendUnaryData<SayHelloResponse>,
            ) {
              const { pluginName, identity } = hostCallContext(call);
              handled.push(pluginName);
              callback(null, { message: `credential for ${identity?.user}`, servedBy: "operator" });
            },
          },
        ],
      ],
    });
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await operator.close();
    await kube.close();
  });

  it("lets the allowed identity call, and the handler knows who called", async () => {
    const aws = await connect("aws");
    const reply = await aws.callHost(
      GreeterServiceService.sayHello,
      { name: "x", delayMs: 0 },
      { timeoutMs: 10_000 },
    );
    expect(reply.message).toBe(`credential for ${sa("aws")}`);
    expect(handled).toEqual(["aws"]);
  });

  it("refuses another identity with PERMISSION_DENIED naming plugin, identity and method", async () => {
    const gcp = await connect("gcp");
    const before = handled.length;
    const call = gcp.callHost(
      GreeterServiceService.sayHello,
      { name: "x", delayMs: 0 },
      { timeoutMs: 10_000 },
    );
    await expect(call).rejects.toMatchObject({
      name: "PluginFrameworkError",
      code: status.PERMISSION_DENIED,
      details: expect.stringMatching(new RegExp(`plugin "gcp".*${sa("gcp")}.*${HELLO}`)),
    });
    expect(handled.length).toBe(before);
    // The session goes on: the operator's own calls to the plugin still work.
    const greeting = await operator.registry
      .get("gcp")
      .call(GreeterServiceService.sayHello, { name: "back", delayMs: 0 }, { timeoutMs: 10_000 });
    expect(greeting.message).toBe("hello back");
  });
});
