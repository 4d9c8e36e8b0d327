import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { constants, createServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { SayHelloResponse } from "@operator-plugin-framework/proto/example";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestCertificates, type TestCertificates } from "../tls/index.js";
import {
  bearer,
  callError,
  greeterClient,
  sayHello,
  startGreeterUpstream,
  startProxyFixture,
} from "./greeter-fixture.test-support.js";
import { startFakeKubeRbacProxy } from "./index.js";

let certs: TestCertificates;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  certs = await createTestCertificates({ hosts: ["localhost"] });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens a Chat through the proxy and waits until one message made the round trip. */
async function liveChat(client: ReturnType<typeof greeterClient>) {
  const call = client.chat(bearer("good-token"));
  call.write({ name: "first", delayMs: 0 });
  await once(call, "data");
  return call;
}

describe("fake kube-rbac-proxy faults and lifecycle", () => {
  it("close() ends a live stream with UNAVAILABLE, cancels it upstream and releases every connection", async () => {
    const { proxy, client, greeter } = await startProxyFixture(certs, cleanups);
    const call = await liveChat(client);
    const error = callError(call);
    const upstreamCancelled = greeter.chatCancelled();

    // close() resolves only once the listening server reports every connection closed.
    await proxy.close();
    expect((await error).code).toBe(grpc.status.UNAVAILABLE);
    await upstreamCancelled;
    expect(proxy.connections()).toBe(0);
    expect((await sayHello(client, bearer("good-token"))).error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("dropConnections() makes a live stream fail with UNAVAILABLE, and later calls reconnect", async () => {
    const { proxy, client, greeter } = await startProxyFixture(certs, cleanups);
    const call = await liveChat(client);
    const error = callError(call);
    const upstreamCancelled = greeter.chatCancelled();

    proxy.dropConnections();
    expect((await error).code).toBe(grpc.status.UNAVAILABLE);
    await upstreamCancelled;
    expect((await sayHello(client, bearer("good-token"))).response?.message).toBe("hello proxy");
    expect(proxy.connections()).toBe(1);
  });

  it("resets the upstream stream when the client cancels", async () => {
    const { client, greeter } = await startProxyFixture(certs, cleanups);
    const call = await liveChat(client);
    const upstreamCancelled = greeter.chatCancelled();
    const error = callError(call);
    call.cancel();
    await upstreamCancelled;
    expect((await error).code).toBe(grpc.status.CANCELLED);
  });

  it("answers 502 when the upstream is unreachable, which grpc-js reports as UNAVAILABLE", async () => {
    const gone = await startGreeterUpstream();
    await gone.close();
    const proxy = await startFakeKubeRbacProxy({
      upstream: gone.upstream,
      tls: certs.server,
      authenticate: async () => ({ user: "alice", groups: [] }),
      authorize: async () => true,
    });
    cleanups.push(() => proxy.close());
    const client = greeterClient(proxy.port, certs.ca.cert);
    cleanups.push(() => client.close());

    const { error } = await sayHello(client, bearer("any"));
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(error?.details).toBe("Received HTTP status code 502");
  });

  it("aborts a started response when the upstream goes away mid-stream (RST_STREAM INTERNAL_ERROR, as Go's ReverseProxy)", async () => {
    const { client, greeter } = await startProxyFixture(certs, cleanups);
    const call = await liveChat(client);
    const error = callError(call);
    await greeter.close();
    const { code } = await error;
    expect(code).toBe(grpc.status.INTERNAL);
  });

  it("maps an upstream RST_STREAM after its headers to INTERNAL, and before them to 502", async () => {
    // A raw h2c upstream: answers CountGreetings with one message and then resets the stream
    // (INTERNAL_ERROR),
    // and refuses SayHello with a reset before any headers.
    const upstream = createServer();
    upstream.on("stream", (stream: ServerHttp2Stream, headers) => {
      stream.on("error", () => {});
      if (headers[":path"] === "/example.v1.GreeterService/SayHello") {
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      const message = Buffer.from(SayHelloResponse.encode({ message: "partial", servedBy: "raw" }).finish());
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      // destroy() resets without END_STREAM; close() would end the body first.
      stream.write(Buffer.concat([prefix, message]), () => stream.destroy(new Error("upstream crashed")));
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
    const proxy = await startFakeKubeRbacProxy({
      upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      tls: certs.server,
      authenticate: async () => ({ user: "alice", groups: [] }),
      authorize: async () => true,
    });
    cleanups.push(() => proxy.close());
    const client = greeterClient(proxy.port, certs.ca.cert);
    cleanups.push(() => client.close());

    const stream = client.countGreetings({ name: "x", count: 3 }, bearer("any"));
    const received: string[] = [];
    stream.on("data", (reply: SayHelloResponse) => received.push(reply.message));
    const error = await callError(stream);
    expect(received).toEqual(["partial"]);
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(error.details).toBe("Received RST_STREAM with code 2 (Internal server error)");

    const refused = await sayHello(client, bearer("any"));
    expect(refused.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused.error?.details).toBe("Received HTTP status code 502");
  });

  it("forwards to a unix socket upstream", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opf-proxy-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const greeter = await startGreeterUpstream(`unix://${join(dir, "operator.sock")}`);
    cleanups.push(() => greeter.close());
    const proxy = await startFakeKubeRbacProxy({
      upstream: greeter.upstream,
      tls: certs.server,
      authenticate: async () => ({ user: "alice", groups: ["devs"] }),
      authorize: async () => true,
      authHeaderFields: true,
    });
    cleanups.push(() => proxy.close());
    const client = greeterClient(proxy.port, certs.ca.cert);
    cleanups.push(() => client.close());

    expect((await sayHello(client, bearer("any"))).response?.message).toBe("hello proxy");
    expect(greeter.received[0]?.get("x-remote-user")).toEqual(["alice"]);
  });

  it("refuses bad configuration when it starts", async () => {
    const base = { tls: certs.server, authenticate: async () => undefined, authorize: async () => false };
    await expect(startFakeKubeRbacProxy({ ...base, upstream: "https://127.0.0.1:1" })).rejects.toThrow(/h2c/);
    await expect(
      startFakeKubeRbacProxy({ ...base, upstream: "http://127.0.0.1:1", allowPaths: ["/["] }),
    ).rejects.toThrow(/invalid allowPaths pattern/);
    await expect(
      startFakeKubeRbacProxy({ upstream: "http://127.0.0.1:1", tls: certs.server }),
    ).rejects.toThrow(/needs `kube`/);
  });
});
