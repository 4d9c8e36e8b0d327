import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { status } from "@grpc/grpc-js";
import type { StreamAuthenticator } from "@operator-plugin-framework/auth";
import { allowAllNames } from "@operator-plugin-framework/auth/operator";
import { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { PLUGIN_STREAM_PATH, quietLogger } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";
import { createPluginServer, type PluginServer } from "./plugin-server.js";
import type { PluginServerOptions } from "./plugin-server-options.js";
import { registerMessage } from "./raw-plugin.test-support.js";
import { isCapRefusal, StreamCaps } from "./stream-caps.js";

describe("StreamCaps", () => {
  const caps = () =>
    new StreamCaps({
      maxStreamsPerConnection: 100,
      maxUnregisteredStreamsPerConnection: 2,
      maxUnregisteredStreams: 3,
      maxSessionsPerIdentity: 1,
    });

  it("refuses a third unregistered stream on one connection, and frees the place on release", () => {
    const c = caps();
    const first = c.openUnregistered("1");
    expect(isCapRefusal(c.openUnregistered("1"))).toBe(false);
    const third = c.openUnregistered("1");
    expect(third).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      reason: "unregistered_streams_per_connection",
      details: expect.stringMatching(/maxUnregisteredStreamsPerConnection: 2/),
    });
    if (isCapRefusal(first)) throw new Error("the first stream was refused");
    first.release();
    first.release(); // idempotent: frees one place only
    expect(isCapRefusal(c.openUnregistered("1"))).toBe(false);
    expect(isCapRefusal(c.openUnregistered("1"))).toBe(true);
  });

  it("refuses past the total over all connections", () => {
    const c = caps();
    for (const connection of ["1", "2", "3"])
      expect(isCapRefusal(c.openUnregistered(connection))).toBe(false);
    expect(c.openUnregistered("4")).toMatchObject({
      reason: "unregistered_streams",
      details: expect.stringMatching(/maxUnregisteredStreams: 3/),
    });
    expect(c.unregisteredStreams).toBe(3);
  });

  it("counts sessions per identity and names the identity", () => {
    const c = caps();
    const alice = c.openSession("alice");
    expect(c.openSession("alice")).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      reason: "sessions_per_identity",
      details: expect.stringMatching(/"alice" already has 1 .*maxSessionsPerIdentity: 1/),
    });
    expect(isCapRefusal(c.openSession("bob"))).toBe(false);
    if (!isCapRefusal(alice)) alice.release();
    expect(isCapRefusal(c.openSession("alice"))).toBe(false);
  });
});

/** A plugin stream spoken by hand over node:http2. */
function openStream(session: ClientHttp2Session, headers: Record<string, string | string[]> = {}) {
  const stream: ClientHttp2Stream = session.request({
    ":method": "POST",
    ":path": PLUGIN_STREAM_PATH,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  stream.on("error", () => {});
  stream.resume();
  const outcome = new Promise<{ code: number; details: string }>((resolve) => {
    const onHeaders = (received: Record<string, unknown>) => {
      if (received["grpc-status"] === undefined) return;
      resolve({
        code: Number(received["grpc-status"]),
        details: decodeURIComponent(String(received["grpc-message"] ?? "")),
      });
    };
    stream.on("response", onHeaders);
    stream.on("trailers", onHeaders);
    stream.on("close", () => resolve({ code: -1, details: "closed without a status" }));
  });
  const register = (name: string) => {
    const body = PluginStreamMessage.encode(registerMessage(name)).finish();
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    stream.write(frame);
  };
  return { stream, outcome, register };
}

/** Resolves once the server answered a ping: it has handled every frame sent before it. */
function pingPong(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = () => session.ping((err) => (err ? reject(err) : resolve()));
    if (session.connecting) session.once("connect", send);
    else send();
  });
}

/** Authenticates a stream as the user in its `x-user` header. */
const headerUser: StreamAuthenticator = {
  mode: "test-header",
  authenticate: async ({ headers }) => ({ user: headers["x-user"]?.[0] ?? "nobody", groups: [] }),
};

describe("caps on a plugin server's streams", () => {
  let server: PluginServer | undefined;
  const sessions: ClientHttp2Session[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.destroy();
    await server?.stop();
  });

  async function start(options: Partial<PluginServerOptions>): Promise<string> {
    server = createPluginServer({
      listen: "127.0.0.1:0",
      authenticator: "none",
      logger: quietLogger,
      ...options,
    });
    const [address] = await server.ready();
    return `http://${address}`;
  }
  function dial(target: string): ClientHttp2Session {
    const session = connect(target);
    session.on("error", () => {});
    sessions.push(session);
    return session;
  }

  it("sends maxStreamsPerConnection as the HTTP/2 stream limit", async () => {
    const session = dial(await start({ maxStreamsPerConnection: 7 }));
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
  });

  it("refuses at once an unregistered stream past the per-connection cap; other connections go on", async () => {
    const target = await start({ maxUnregisteredStreamsPerConnection: 2 });
    const attacker = dial(target);
    // A forged connection tag, sent twice, changes nothing: the server sets its own.
    const forged = { "x-opf-internal-connection": ["9", "10"] };
    const held = [openStream(attacker, forged), openStream(attacker, forged)];
    await pingPong(attacker);
    const refused = openStream(attacker, forged);
    expect(await refused.outcome).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(
        /has 2 plugin streams that have not registered.*maxUnregisteredStreamsPerConnection: 2/,
      ),
    });
    // Another connection still registers.
    const good = openStream(dial(target));
    good.register("good");
    await server!.registry.waitFor("good", { timeoutMs: 5_000 });
    // Registering frees the place: the attacker's connection may open one more.
    held[0]!.register("late");
    await server!.registry.waitFor("late", { timeoutMs: 5_000 });
    const next = openStream(attacker);
    next.register("next");
    await server!.registry.waitFor("next", { timeoutMs: 5_000 });
  });

  it("refuses past the total of unregistered streams", async () => {
    const target = await start({ maxUnregisteredStreams: 2 });
    const connections = [dial(target), dial(target)];
    for (const connection of connections) openStream(connection);
    await Promise.all(connections.map(pingPong));
    expect(await openStream(dial(target)).outcome).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/maxUnregisteredStreams: 2/),
    });
  });

  it("refuses a registration past maxSessionsPerIdentity, naming the identity, until a session ends", async () => {
    const target = await start({
      authenticator: headerUser,
      authorizeName: allowAllNames(),
      maxSessionsPerIdentity: 1,
    });
    const first = openStream(dial(target), { "x-user": "alice" });
    first.register("a");
    await server!.registry.waitFor("a", { timeoutMs: 5_000 });
    const second = openStream(dial(target), { "x-user": "alice" });
    second.register("b");
    expect(await second.outcome).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/"alice" already has 1 plugin sessions.*maxSessionsPerIdentity: 1/),
    });
    const bob = openStream(dial(target), { "x-user": "bob" });
    bob.register("b");
    await server!.registry.waitFor("b", { timeoutMs: 5_000 });
    const gone = new Promise((resolve) => server!.registry.on("unregistered", resolve));
    first.stream.close();
    await gone;
    const third = openStream(dial(target), { "x-user": "alice" });
    third.register("a");
    await server!.registry.waitFor("a", { timeoutMs: 5_000 });
  });
});
