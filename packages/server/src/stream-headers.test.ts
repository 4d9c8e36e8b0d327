import { once } from "node:events";
import { connect } from "node:http2";
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { authHeaders, keepRepeatedHeaders, splitRepeated } from "./stream-headers.js";

describe("splitRepeated", () => {
  it("turns a header Node joined from repeated fields back into its values", () => {
    const headers = { ":path": "/x", "x-remote-user": "alice, mallory", "x-other": "a, b" };
    splitRepeated(headers, [
      ":path",
      "/x",
      "x-remote-user",
      "alice",
      "X-Remote-User",
      "mallory",
      "x-other",
      "a, b",
    ]);
    expect(headers).toEqual({ ":path": "/x", "x-remote-user": ["alice", "mallory"], "x-other": "a, b" });
  });

  it("leaves headers alone without raw headers", () => {
    const headers = { "x-remote-user": "alice" };
    splitRepeated(headers, undefined);
    expect(headers).toEqual({ "x-remote-user": "alice" });
  });
});

describe("keepRepeatedHeaders on a grpc-js server (the contract with grpc-js internals)", () => {
  let server: Server | undefined;
  afterEach(() => server?.forceShutdown());

  /** Sends one unary call with `headers` by hand and resolves with what the handler saw. */
  async function seen(headers: Record<string, string | string[]>, patch: boolean) {
    let metadata: Record<string, string[]> | undefined;
    server = new Server();
    server.register(
      "/test.Echo/Call",
      (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        metadata = authHeaders(call.metadata);
        callback(null, Buffer.alloc(0));
      },
      (value: Buffer) => value,
      (value: Buffer) => value,
      "unary",
    );
    const port = await new Promise<number>((resolve, reject) =>
      server!.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    if (patch) keepRepeatedHeaders(server);
    const session = connect(`http://127.0.0.1:${port}`);
    const request = session.request({
      ":method": "POST",
      ":path": "/test.Echo/Call",
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    request.end(Buffer.alloc(5));
    request.resume();
    await once(request, "close");
    session.close();
    return metadata!;
  }

  it("shows every value of a repeated header, where Node alone joins them", async () => {
    const headers = { "x-remote-user": ["alice", "mallory"], "x-single": "a, b" };
    expect((await seen(headers, false))["x-remote-user"]).toEqual(["alice, mallory"]);
    const patched = await seen(headers, true);
    expect(patched["x-remote-user"]).toEqual(["alice", "mallory"]);
    expect(patched["x-single"]).toEqual(["a, b"]);
  });

  it("is idempotent", async () => {
    server = new Server();
    await new Promise<number>((resolve, reject) =>
      server!.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    keepRepeatedHeaders(server);
    keepRepeatedHeaders(server);
    const http2Servers = (server as unknown as { http2Servers: Map<NodeJS.EventEmitter, unknown> })
      .http2Servers;
    for (const http2Server of http2Servers.keys()) expect(http2Server.listenerCount("stream")).toBe(2);
  });
});
