import type { ServerWritableStream } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import {
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
  TestServiceClient,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { createInteropService } from "@operator-plugin-framework/testkit/interop";
import { DEFAULT_SETTINGS } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";

const MiB = 1024 * 1024;

describe("chunking and flow control", () => {
  let server: TestServer;
  let plugin: PluginConnection;
  afterEach(async () => {
    await plugin?.close();
    await server?.close();
  });

  it("does not stall 100 small calls behind a 64 MiB transfer on the same session", async () => {
    server = await startTestServer();
    plugin = await startTestPlugin({
      name: "big",
      target: server.target,
      services: [[TestServiceService, createInteropService()]],
      allowPartialImplementation: true,
    });
    const client = server.registry.get("big").client(TestServiceClient);
    let largeDoneAt = 0;
    let largeBytes = 0;
    const large = new Promise<void>((resolve, reject) => {
      const stream = client.streamingOutputCall({
        responseParameters: Array.from({ length: 64 }, () => ({ size: MiB, intervalUs: 0 })),
      });
      stream.on("data", (r: StreamingOutputCallResponse) => {
        largeBytes += r.payload?.body.length ?? 0;
      });
      stream.on("error", reject);
      stream.on("end", () => {
        largeDoneAt = performance.now();
        resolve();
      });
    });
    // Let the transfer get going before the small calls start.
    await expect.poll(() => largeBytes, { interval: 1 }).toBeGreaterThan(0);
    const smallDoneAt: number[] = [];
    const small = Array.from(
      { length: 100 },
      () =>
        new Promise<void>((resolve, reject) =>
          client.unaryCall({ responseSize: 64, payload: { body: Buffer.alloc(64) }, sleepMs: 0 }, (err) => {
            if (err) return reject(err);
            smallDoneAt.push(performance.now());
            resolve();
          }),
        ),
    );
    await Promise.all([large, ...small]);
    expect(largeBytes).toBe(64 * MiB);
    expect(smallDoneAt).toHaveLength(100);
    expect(Math.min(...smallDoneAt)).toBeLessThan(largeDoneAt);
  });

  it("holds a writer back while the reader does not read: memory stays bounded by the window", async () => {
    server = await startTestServer();
    let written = 0;
    let release: () => void = () => {};
    const handlerBlocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    plugin = await startTestPlugin({
      name: "slow-reader",
      target: server.target,
      services: [
        [
          TestServiceService,
          {
            streamingOutputCall(
              call: ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>,
            ) {
              const body = Buffer.alloc(64 * 1024);
              const pump = () => {
                while (written < 512) {
                  written++;
                  if (!call.write({ payload: { body } })) {
                    call.once("drain", pump);
                    release();
                    return;
                  }
                }
                call.end();
              };
              pump();
            },
          },
        ],
      ],
      allowPartialImplementation: true,
    });
    const client = server.registry.get("slow-reader").client(TestServiceClient);
    const stream = client.streamingOutputCall({ responseParameters: [] });
    stream.pause();
    await handlerBlocked;
    // This checks for the absence of progress, so it has to give the transport
    // time to misbehave: without flow control every write would complete and
    // all 512 messages (32 MiB) would cross loopback in well under this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The window holds initialWindowSize / 64 KiB messages; the Writable buffers 16 more.
    expect(written).toBeLessThanOrEqual(DEFAULT_SETTINGS.initialWindowSize / (64 * 1024) + 16);
    let received = 0;
    stream.on("data", () => received++);
    stream.resume();
    await new Promise((resolve) => stream.on("end", resolve));
    expect(received).toBe(512);
  });

  it("fails a message over the receive limit with RESOURCE_EXHAUSTED and keeps the session", async () => {
    server = await startTestServer({ maxReceiveMessageSize: 512 * 1024 });
    plugin = await startTestPlugin({
      name: "limits",
      target: server.target,
      services: [[TestServiceService, createInteropService()]],
      allowPartialImplementation: true,
    });
    const client = server.registry.get("limits").client(TestServiceClient);
    const tooBig = await new Promise<{ code: number; details: string }>((resolve) =>
      client.unaryCall({ responseSize: MiB, payload: undefined, sleepMs: 0 }, (err) => resolve(err!)),
    );
    expect(tooBig.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(tooBig.details).toMatch(/larger than max/);
    const ok = await new Promise<number>((resolve, reject) =>
      client.unaryCall({ responseSize: 1000, payload: undefined, sleepMs: 0 }, (err, res) =>
        err ? reject(err) : resolve(res!.payload!.body.length),
      ),
    );
    expect(ok).toBe(1000);
  });

  it("refuses calls beyond the per-session concurrency limit when queueing is off", async () => {
    server = await startTestServer({ maxConcurrentStreams: 2, maxQueuedCalls: 0 });
    plugin = await startTestPlugin({
      name: "narrow",
      target: server.target,
      services: [[TestServiceService, createInteropService()]],
      allowPartialImplementation: true,
    });
    const client = server.registry.get("narrow").client(TestServiceClient);
    const call = () =>
      new Promise<number>((resolve) =>
        client.unaryCall({ responseSize: 1, payload: undefined, sleepMs: 300 }, (err) =>
          resolve(err ? err.code : 0),
        ),
      );
    const codes = await Promise.all([call(), call(), call()]);
    expect(codes.sort()).toEqual([status.OK, status.OK, status.RESOURCE_EXHAUSTED]);
  });
});
