import { Metadata, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import type { StreamAuthenticator } from "@operator-plugin-framework/auth";
import {
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import { quietLogger } from "@operator-plugin-framework/wire";
import { afterEach } from "vitest";
import { type HostCallContext, hostCallContext } from "./host-call-context.js";
import { createPluginServer, type PluginServer } from "./plugin-server.js";
import type { PluginServerOptions } from "./plugin-server-options.js";
import { RawPlugin } from "./raw-plugin.test-support.js";

/** The identity is whatever the stream's `x-test-user` header says: tests pick who calls. */
const headerAuthenticator: StreamAuthenticator = {
  mode: "test",
  authenticate: async ({ headers }) => ({ user: headers["x-test-user"]?.[0] ?? "anonymous", groups: [] }),
};

/** What the host service's handlers saw, for tests to assert on. */
export interface HostServiceLog {
  /** The caller of each call, from hostCallContext(call). */
  contexts: HostCallContext[];
  /** Resolves when a `unaryCall` with `sleepMs` starts, with a promise of its `cancelled` event. */
  sleeping: Promise<{ cancelled: Promise<void> }>;
}

/**
 * The testing.v1.TestService as a host service: echoes like the interop
 * server, with `x-echo` metadata sent back as headers and `x-echo-trailer`
 * as trailers; `sleepMs` never answers, and reports its `cancelled`.
 * `unimplementedCall` is left out, so grpc-js's UNIMPLEMENTED answers it.
 */
export function testHostService(): { implementation: object; log: HostServiceLog } {
  let started: (handler: { cancelled: Promise<void> }) => void = () => {};
  const log: HostServiceLog = {
    contexts: [],
    sleeping: new Promise((resolve) => {
      started = resolve;
    }),
  };
  const echoMetadata = (call: { metadata: Metadata; sendMetadata(m: Metadata): void }) => {
    const headers = new Metadata();
    for (const value of call.metadata.get("x-echo")) headers.add("x-echo", value);
    call.sendMetadata(headers);
    const trailers = new Metadata();
    for (const value of call.metadata.get("x-echo-trailer")) trailers.add("x-echo-trailer", value);
    return trailers;
  };
  const implementation = {
    emptyCall(call: object, callback: sendUnaryData<object>) {
      log.contexts.push(hostCallContext(call));
      callback(null, {});
    },
    unaryCall(call: ServerUnaryCall<SimpleRequest, SimpleResponse>, callback: sendUnaryData<SimpleResponse>) {
      log.contexts.push(hostCallContext(call));
      if (call.request.sleepMs > 0) {
        started({ cancelled: new Promise((resolve) => call.on("cancelled", () => resolve())) });
        return;
      }
      const trailers = echoMetadata(call);
      const wanted = call.request.responseStatus;
      if (wanted && wanted.code !== 0) {
        return callback({ code: wanted.code, details: wanted.message, metadata: trailers }, null);
      }
      callback(null, { payload: { body: Buffer.alloc(call.request.responseSize) } }, trailers);
    },
    streamingOutputCall(call: {
      request: StreamingOutputCallRequest;
      write(m: StreamingOutputCallResponse): void;
      end(): void;
    }) {
      log.contexts.push(hostCallContext(call));
      for (const { size } of call.request.responseParameters)
        call.write({ payload: { body: Buffer.alloc(size) } });
      call.end();
    },
    streamingInputCall(
      call: {
        on(event: "data", listener: (m: StreamingInputCallRequest) => void): void;
        on(event: "end", l: () => void): void;
      },
      callback: sendUnaryData<{ aggregatedPayloadSize: number }>,
    ) {
      log.contexts.push(hostCallContext(call));
      let total = 0;
      call.on("data", (m) => {
        total += m.payload?.body.length ?? 0;
      });
      call.on("end", () => callback(null, { aggregatedPayloadSize: total }));
    },
    fullDuplexCall(call: {
      on(event: "data", listener: (m: StreamingOutputCallRequest) => void): void;
      on(event: "end", listener: () => void): void;
      write(m: StreamingOutputCallResponse): void;
      end(): void;
    }) {
      log.contexts.push(hostCallContext(call));
      call.on("data", (m) => {
        for (const { size } of m.responseParameters) call.write({ payload: { body: Buffer.alloc(size) } });
      });
      call.on("end", () => call.end());
    },
  };
  return { implementation, log };
}

/** A started server offering the test host service, identities taken from `x-test-user`. */
export async function startHostServer(
  options: Partial<PluginServerOptions> = {},
): Promise<{ server: PluginServer; address: string; log: HostServiceLog }> {
  const { implementation, log } = testHostService();
  const server = createPluginServer({
    listen: "127.0.0.1:0",
    authenticator: headerAuthenticator,
    authorizeName: async () => ({ allowed: true }),
    logger: quietLogger,
    keepalive: { intervalMs: 0 },
    // Some tests leave a handler waiting forever; stop() need not wait for it.
    drainGraceMs: 50,
    hostServices: [[TestServiceService, implementation]],
    ...options,
  });
  const [address] = await server.ready();
  return { server, address: address!, log };
}

/** Servers with the test host service and raw plugins for one test file, closed after each test. */
export function hostTestBed() {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step();
  });
  return {
    async server(options: Partial<PluginServerOptions> = {}) {
      const started = await startHostServer(options);
      cleanup.push(() => started.server.stop());
      return started;
    },
    /** A raw plugin whose identity is `user`. */
    plugin(address: string, user = "alice"): RawPlugin {
      const raw = new RawPlugin(address, { "x-test-user": user });
      cleanup.push(async () => raw.close());
      return raw;
    },
  };
}
