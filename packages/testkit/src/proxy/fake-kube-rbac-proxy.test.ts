import * as grpc from "@grpc/grpc-js";
import type { SayHelloResponse } from "@operator-plugin-framework/proto/example";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestCertificates, type TestCertificates } from "../tls/index.js";
import {
  ALICE,
  bearer,
  callError,
  END_WITH_STATUS,
  greeterClient,
  sayHello,
  startGreeterUpstream,
  startProxyFixture,
} from "./greeter-fixture.test-support.js";
import { startFakeKubeRbacProxy } from "./index.js";
import type { FakeKubeRbacProxyOptions, ProxyAuthorizationAttributes } from "./types.js";

const SAY_HELLO = "/example.v1.GreeterService/SayHello";

let certs: TestCertificates;
const cleanups: Array<() => unknown> = [];
let authorizeCalls: ProxyAuthorizationAttributes[];

beforeAll(async () => {
  certs = await createTestCertificates({ hosts: ["localhost"] });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<FakeKubeRbacProxyOptions> = {}) {
  const fixture = await startProxyFixture(certs, cleanups, options);
  authorizeCalls = fixture.authorizeCalls;
  return fixture;
}

describe("fake kube-rbac-proxy with grpc-js", () => {
  it("forwards an authorized unary call and authorizes it as create on the method path", async () => {
    const { proxy, client, greeter } = await setup();
    const { response, error } = await sayHello(client, bearer("good-token"));
    expect(error).toBeUndefined();
    expect(response?.message).toBe("hello proxy");
    expect(authorizeCalls).toEqual([{ ...ALICE, verb: "create", path: SAY_HELLO }]);
    expect(greeter.received).toHaveLength(1);
    expect(greeter.received[0]!.get("x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(proxy.stats).toEqual({ requests: 1, unauthenticated: 0, forbidden: 0, notFound: 0 });
    expect(proxy.url).toBe(`https://127.0.0.1:${proxy.port}`);
    expect(proxy.connections()).toBe(1);
  });

  it("carries many messages both ways on a bidi stream, then the upstream's headers, status and trailers", async () => {
    const { client } = await setup();
    const call = client.chat(bearer("good-token", { [END_WITH_STATUS]: "yes" }));
    const initial = new Promise<grpc.Metadata>((resolve) => call.once("metadata", resolve));
    const replies: string[] = [];
    call.on("data", (reply: SayHelloResponse) => replies.push(reply.message));
    const status = new Promise<grpc.StatusObject>((resolve) => call.once("status", resolve));
    const error = callError(call);

    // Ping-pong first (each reply proves the previous message crossed both ways), then a burst.
    for (let i = 0; i < 50; i++) {
      const reply = new Promise((resolve) => call.once("data", resolve));
      call.write({ name: `ping-${i}`, delayMs: 0 });
      await reply;
    }
    for (let i = 0; i < 1000; i++) call.write({ name: `burst-${i}`, delayMs: 0 });
    call.end();

    const ended = await status;
    expect((await initial).get("x-initial")).toEqual(["from-upstream"]);
    expect(replies).toHaveLength(1050);
    expect(replies[0]).toBe("hello ping-0");
    expect(replies.at(-1)).toBe("hello burst-999");
    expect(ended.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(ended.details).toBe("plugin says no: ünïcödé % done");
    expect(ended.metadata.get("x-trailer")).toEqual(["kept"]);
    expect(ended.metadata.get("x-trailer-bin")).toEqual([Buffer.from([0, 1, 2, 255])]);
    expect((await error).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it("streams server, client and large messages through unchanged", async () => {
    const { client } = await setup();
    const stream = client.countGreetings({ name: "x", count: 300 }, bearer("good-token"));
    const counted: string[] = [];
    for await (const reply of stream) counted.push((reply as SayHelloResponse).message);
    expect(counted).toEqual(Array.from({ length: 300 }, (_, i) => `${i}`));

    const big = "x".repeat(3 * 1024 * 1024);
    const collected = await new Promise<string>((resolve, reject) => {
      const call = client.collectNames(bearer("good-token"), (err, res) =>
        err ? reject(err) : resolve(res.message),
      );
      call.write({ name: big, delayMs: 0 });
      call.write({ name: "tail", delayMs: 0 });
      call.end();
    });
    expect(collected).toBe(`${big},tail`);
  });

  it("answers 401 for a missing or unknown token, which grpc-js reports as UNAUTHENTICATED", async () => {
    const { proxy, client, greeter } = await setup();
    for (const md of [bearer(undefined), bearer("unknown-token"), bearer("")]) {
      const { error } = await sayHello(client, md);
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error?.details).toBe("Received HTTP status code 401");
    }
    expect(proxy.stats.unauthenticated).toBe(3);
    expect(authorizeCalls).toEqual([]);
    expect(greeter.received).toEqual([]);
  });

  it("answers 401 when the authenticator fails", async () => {
    const { client } = await setup({
      authenticate: async () => {
        throw new Error("token review unavailable");
      },
    });
    const { error } = await sayHello(client, bearer("good-token"));
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("answers 403 when the review denies, which grpc-js reports as PERMISSION_DENIED", async () => {
    const { proxy, client, greeter } = await setup({ authorize: async () => false });
    const { error } = await sayHello(client, bearer("good-token"));
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toBe("Received HTTP status code 403");
    expect(proxy.stats).toMatchObject({ requests: 1, forbidden: 1, unauthenticated: 0 });
    expect(greeter.received).toEqual([]);
  });

  it("answers 500 when the authorizer fails, which grpc-js reports as UNKNOWN", async () => {
    const { client, greeter } = await setup({
      authorize: async () => {
        throw new Error("subject access review unavailable");
      },
    });
    const { error } = await sayHello(client, bearer("good-token"));
    expect(error?.code).toBe(grpc.status.UNKNOWN);
    expect(error?.details).toBe("Received HTTP status code 500");
    expect(greeter.received).toEqual([]);
  });

  it("authorizes with resource attributes instead of the path when configured", async () => {
    const resourceAttributes = { namespace: "operators", group: "pluginframework.io", resource: "plugins" };
    const { client } = await setup({ resourceAttributes });
    expect((await sayHello(client, bearer("good-token"))).error).toBeUndefined();
    expect(authorizeCalls).toEqual([{ ...ALICE, verb: "create", resourceAttributes }]);
  });

  it("answers 404 for a path outside allowPaths before authenticating, which grpc-js reports as UNIMPLEMENTED", async () => {
    const { proxy, client } = await setup({ allowPaths: ["/example.v1.GreeterService/Say*"] });
    expect((await sayHello(client, bearer("good-token"))).response?.message).toBe("hello proxy");

    const chat = client.chat(bearer(undefined));
    const error = await callError(chat);
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(error.details).toBe("Received HTTP status code 404");
    expect(proxy.stats).toMatchObject({ requests: 2, notFound: 1, unauthenticated: 0 });
  });

  it("overwrites client-sent identity headers when authHeaderFields is on", async () => {
    const { client, greeter } = await setup({ authHeaderFields: true });
    const spoofed = { "x-remote-user": "system:admin", "x-remote-groups": "system:masters" };
    expect((await sayHello(client, bearer("good-token", spoofed))).error).toBeUndefined();
    const seen = greeter.received[0]!;
    expect(seen.get("x-remote-user")).toEqual([ALICE.user]);
    expect(seen.get("x-remote-groups")).toEqual(["system:serviceaccounts|system:authenticated"]);
  });

  it("uses configured identity header names and separator", async () => {
    const { client, greeter } = await setup({
      authHeaderFields: true,
      userHeader: "X-Auth-User",
      groupsHeader: "x-auth-groups",
      groupSeparator: ",",
    });
    expect((await sayHello(client, bearer("good-token"))).error).toBeUndefined();
    const seen = greeter.received[0]!;
    expect(seen.get("x-auth-user")).toEqual([ALICE.user]);
    expect(seen.get("x-auth-groups")).toEqual(["system:serviceaccounts,system:authenticated"]);
    expect(seen.get("x-remote-user")).toEqual([]);
  });

  it("passes client-sent identity headers through untouched when authHeaderFields is off", async () => {
    const { client, greeter } = await setup();
    const spoofed = { "x-remote-user": "system:admin", "x-remote-groups": "system:masters" };
    expect((await sayHello(client, bearer("good-token", spoofed))).error).toBeUndefined();
    expect(greeter.received[0]!.get("x-remote-user")).toEqual(["system:admin"]);
    expect(greeter.received[0]!.get("x-remote-groups")).toEqual(["system:masters"]);
  });

  it("never forwards the authorization header, but keeps other metadata", async () => {
    const { client, greeter } = await setup({ authHeaderFields: true });
    expect((await sayHello(client, bearer("good-token", { "x-custom": "kept" }))).error).toBeUndefined();
    const chat = client.chat(bearer("good-token"));
    chat.end();
    await new Promise((resolve) => chat.once("status", resolve));
    expect(greeter.received).toHaveLength(2);
    for (const seen of greeter.received) expect(seen.get("authorization")).toEqual([]);
    expect(greeter.received[0]!.get("x-custom")).toEqual(["kept"]);
  });

  it("logs what it does through the injected logger, never the token", async () => {
    const lines: string[] = [];
    const record = (level: string) => (obj: object, msg?: string) =>
      lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
    const logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const { client } = await setup({
      logger,
      authenticate: async (token) => {
        if (token === "exploding-token") throw new Error("review failed");
        return token === "good-token" ? ALICE : undefined;
      },
    });
    await sayHello(client, bearer("good-token"));
    await sayHello(client, bearer("wrong-token"));
    await sayHello(client, bearer("exploding-token"));
    expect(lines.some((line) => line.includes("forwarding"))).toBe(true);
    expect(lines.some((line) => line.includes("answering 401"))).toBe(true);
    expect(lines.some((line) => line.startsWith("error"))).toBe(true);
    for (const secret of ["good-token", "wrong-token", "exploding-token"]) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it("can be disposed with await using", async () => {
    const greeter = await startGreeterUpstream();
    let port: number;
    {
      await using proxy = await startFakeKubeRbacProxy({
        upstream: greeter.upstream,
        tls: certs.server,
        authenticate: async () => ALICE,
        authorize: async () => true,
      });
      port = proxy.port;
    }
    const client = greeterClient(port, certs.ca.cert);
    const { error } = await sayHello(client, bearer("good-token"));
    client.close();
    await greeter.close();
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
  });
});
