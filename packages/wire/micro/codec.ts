// Micro-benchmark: CPU per call of the plugin stream codec, for the frames
// one small unary call puts on the wire (new_stream, data, half_close out;
// headers, data, status back), batched 64 calls to a message.
// Usage: node --conditions=opf-source --import tsx packages/wire/micro/codec.ts
import type { Frame } from "@operator-plugin-framework/proto";
import { decodePluginStreamMessage, encodePluginStreamMessage } from "../src/codec.js";

const payload = Buffer.alloc(70);
const batch = (id0: number, frames: (id: number) => Frame[]) =>
  Array.from({ length: 64 }, (_, i) => frames(id0 + i)).flat();
const requests = batch(1, (streamId) => [
  {
    streamId,
    kind: {
      $case: "newStream",
      value: { method: "/grpc.testing.TestService/UnaryCall", metadata: [], timeoutMs: 30_000 },
    },
  },
  { streamId, kind: { $case: "data", value: { data: payload, more: false } } },
  { streamId, kind: { $case: "halfClose", value: {} } },
]);
const responses = batch(1, (streamId) => [
  { streamId, kind: { $case: "headers", value: { metadata: [] } } },
  { streamId, kind: { $case: "data", value: { data: payload, more: false } } },
  {
    streamId,
    kind: { $case: "status", value: { code: 0, message: "", details: Buffer.alloc(0), trailers: [] } },
  },
]);

function perCall(rounds: number): number {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    for (const frames of [requests, responses]) {
      const wire = encodePluginStreamMessage({ payload: { $case: "frames", value: { frames } } });
      decodePluginStreamMessage(wire);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / (rounds * 64);
}

perCall(2_000);
for (let round = 0; round < 5; round++)
  console.log(`round ${round}: ${perCall(5_000).toFixed(3)} µs per call`);
