import { EventEmitter } from "node:events";
import { Metadata, status } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { createPluginRegistry } from "@operator-plugin-framework/registry";
import { DEFAULT_SETTINGS, quietLogger } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HostServices } from "./host-services.js";
import { LogBudget } from "./log-budget.js";
import { noopServerObserver } from "./observability/server-observer.js";
import { PluginStream, type StreamContext } from "./plugin-stream.js";
import { DEFAULT_STREAM_CAPS, StreamCaps } from "./stream-caps.js";

afterEach(() => {
  vi.useRealTimers();
});

/** A grpc-js server duplex stream, as far as PluginStream uses it. */
class FakeCall extends EventEmitter {
  readonly metadata = new Metadata();
  readonly written: PluginStreamMessage[] = [];
  ended: { code: status; details: string } | undefined;
  constructor() {
    super();
    this.on("error", (err: { code: status; details: string }) => {
      this.ended ??= err;
    });
  }
  write(message: PluginStreamMessage): boolean {
    this.written.push(message);
    return true;
  }
  end(): void {
    this.ended ??= { code: status.OK, details: "" };
  }
  getPeer(): string {
    return "ipv4:127.0.0.1:1";
  }
}

function open(overrides: Partial<StreamContext> = {}) {
  const registry = createPluginRegistry();
  const streams = new Set<PluginStream>();
  const ctx: StreamContext = {
    registry,
    authenticator: undefined,
    authorizeName: undefined,
    limits: {
      maxReceiveMessageSize: 1024,
      maxSendMessageSize: 1024,
      maxConcurrentStreams: 10,
      maxQueuedCalls: 10,
    },
    localSettings: { ...DEFAULT_SETTINGS },
    registerTimeoutMs: 1_000,
    refusalLog: new LogBudget(),
    keepalive: { intervalMs: 0, timeoutMs: 0 },
    maxConnectionAgeMs: undefined,
    drainGraceMs: 100,
    logger: quietLogger,
    observer: noopServerObserver,
    caps: new StreamCaps(DEFAULT_STREAM_CAPS),
    host: { services: new HostServices(), authorize: undefined, logger: quietLogger },
    refusal: () => undefined,
    track: (stream) => {
      streams.add(stream);
      return () => streams.delete(stream);
    },
    ...overrides,
  };
  const call = new FakeCall();
  // The fake has every member PluginStream touches.
  const stream = new PluginStream(call as unknown as ConstructorParameters<typeof PluginStream>[0], ctx);
  return { call, stream, registry, streams };
}

function register(revision: number): PluginStreamMessage {
  return {
    payload: {
      $case: "register",
      value: {
        name: "p",
        version: "v1",
        protocolRevision: revision,
        services: [],
        settings: undefined,
        labels: {},
        fileDescriptorSet: Buffer.alloc(0),
      },
    },
  };
}

const ping: PluginStreamMessage = { payload: { $case: "ping", value: { nonce: 7, ack: false } } };

/** Lets the asynchronous registration (authentication, authorization) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("PluginStream", () => {
  it("ends with a protocol violation when the first message is not register", () => {
    const { call, streams } = open();
    call.emit("data", ping);
    expect(call.ended?.code).toBe(status.INVALID_ARGUMENT);
    expect(call.ended?.details).toMatch(/first message must be register, got ping/);
    expect(streams.size).toBe(0);
  });

  it("registers a revision-1 plugin: register_ack first, then the session is in the registry", async () => {
    const { call, registry } = open();
    call.emit("data", register(1));
    await settle();
    expect(call.written[0]?.payload?.$case).toBe("registerAck");
    expect(registry.get("p").sessions).toHaveLength(1);
  });

  it("keeps messages sent while registering and handles them, in order, once registered", async () => {
    const { call } = open();
    call.emit("data", register(1));
    call.emit("data", ping);
    call.emit("data", { payload: { $case: "ping", value: { nonce: 8, ack: false } } });
    await settle();
    const answers = call.written.flatMap((m) => (m.payload?.$case === "ping" ? [m.payload.value.nonce] : []));
    expect(answers).toEqual([7, 8]);
    expect(call.ended).toBeUndefined();
  });

  it("refuses more than 64 messages while registration is pending", () => {
    const { call } = open({ authenticator: { mode: "test", authenticate: () => new Promise(() => {}) } });
    call.emit("data", register(1));
    for (let i = 0; i < 65; i++) call.emit("data", ping);
    expect(call.ended?.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("ends with DEADLINE_EXCEEDED when no register comes in time", () => {
    vi.useFakeTimers();
    const { call, streams } = open();
    vi.advanceTimersByTime(1_000);
    expect(call.ended).toEqual({
      code: status.DEADLINE_EXCEEDED,
      details: "no register message within 1000 ms",
    });
    expect(streams.size).toBe(0);
  });

  it("leaves the registry and forgets its timers when the plugin ends the stream", async () => {
    const { call, registry, streams } = open();
    call.emit("data", register(0));
    await settle();
    expect(registry.get("p").sessions).toHaveLength(1);
    call.emit("end");
    expect(call.ended?.code).toBe(status.OK);
    expect(registry.has("p")).toBe(false);
    expect(streams.size).toBe(0);
  });

  it("refuses frames from a seed plugin, which never announced revision 1", async () => {
    const { call } = open();
    call.emit("data", register(0));
    await settle();
    call.emit("data", { payload: { $case: "frames", value: { frames: [] } } });
    expect(call.ended?.code).toBe(status.INVALID_ARGUMENT);
    expect(call.ended?.details).toMatch(/frames from a plugin that registered without revision 1/);
  });
});
