// Micro-benchmark: CPU per unary call of a generated client on a channel that
// answers at once, grpc-js's own path against installDirectUnary. Isolates the
// client-side cost from the tunnel and the network.
// Usage: node --conditions=opf-source --import tsx packages/registry/micro/direct-unary.ts
import { Metadata, makeGenericClientConstructor, status } from "@grpc/grpc-js";
import type { ChannelCall, ChannelInterface, InterceptingListener } from "@operator-plugin-framework/wire";
import { installDirectUnary } from "../src/direct-unary.js";

const method = {
  path: "/micro.Echo/Unary",
  requestStream: false,
  responseStream: false,
  originalName: "unary",
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (bytes: Buffer) => bytes,
};
const Echo = makeGenericClientConstructor({ unary: method }, "Echo");

/** A call that echoes the request once the caller half-closes, on a microtask. */
function echoCall(): ChannelCall {
  let listener: InterceptingListener | undefined;
  let request: Buffer | undefined;
  return {
    start(_metadata: Metadata, l: InterceptingListener) {
      listener = l;
    },
    sendMessageWithContext(_context: unknown, message: Buffer) {
      request = message;
    },
    halfClose() {
      queueMicrotask(() => {
        listener?.onReceiveMetadata(new Metadata());
        listener?.onReceiveMessage(request);
        listener?.onReceiveStatus({ code: status.OK, details: "", metadata: new Metadata() });
      });
    },
    startRead() {},
    cancelWithStatus() {},
    getPeer: () => "micro",
    getCallNumber: () => 0,
    setCredentials() {},
    getAuthContext: () => null,
  } as unknown as ChannelCall;
}

const channel = {
  createCall: () => echoCall(),
  close() {},
  getTarget: () => "micro",
  getConnectivityState: () => 2,
  watchConnectivityState() {},
  getChannelzRef: () => ({ kind: "channel", id: 0, name: "micro" }),
} as unknown as ChannelInterface;

type EchoClient = { unary(request: Buffer, callback: (err: Error | null) => void): void };
const payload = Buffer.alloc(64);

async function run(client: EchoClient, calls: number, inflight: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (started++ < calls)
        await new Promise<void>((resolve, reject) =>
          client.unary(payload, (err) => (err ? reject(err) : resolve())),
        );
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / calls;
}

const grpc = new Echo("micro", {} as never, { channelOverride: channel }) as unknown as EchoClient;
const direct = new Echo("micro", {} as never, { channelOverride: channel }) as unknown as EchoClient;
installDirectUnary(direct, Echo, channel);
for (let round = 0; round < 5; round++) {
  const a = await run(grpc, 50_000, 64);
  const b = await run(direct, 50_000, 64);
  console.log(`round ${round}: grpc-js path ${a.toFixed(2)} µs/call, direct ${b.toFixed(2)} µs/call`);
}
