import { status } from "@grpc/grpc-js";
import type { Frame, RegisterAck } from "@operator-plugin-framework/proto";
import { SayHelloResponse } from "@operator-plugin-framework/proto/example";
import { expect } from "vitest";
import type { OperatorSide } from "./fake-operator.js";

// Frames a hand-driven operator sends and expects in the client's host-call tests.

export const HELLO = "/example.v1.GreeterService/SayHello";
const GREETER = {
  name: "example.v1.GreeterService",
  methods: [{ name: "SayHello", clientStreaming: false, serverStreaming: false }],
};
export const REVISION_2: Partial<RegisterAck> = { protocolRevision: 2, hostServices: [GREETER] };

type Kind = NonNullable<Frame["kind"]>;

export function reply(streamId: number, message: string, trailers: Record<string, string> = {}): Frame[] {
  return [
    { streamId, kind: { $case: "headers", value: { metadata: [] } } },
    { streamId, kind: { $case: "data", value: { data: encode(message), more: false } } },
    statusFrame(streamId, status.OK, "", trailers),
  ];
}

export function encode(message: string): Buffer {
  return Buffer.from(SayHelloResponse.encode({ message, servedBy: "operator" }).finish());
}

export function statusFrame(
  streamId: number,
  code: status,
  message: string,
  trailers: Record<string, string> = {},
) {
  const entries = Object.entries(trailers).map(([key, value]) => ({
    key,
    value,
    binaryValue: Buffer.alloc(0),
  }));
  return {
    streamId,
    kind: { $case: "status", value: { code, message, details: Buffer.alloc(0), trailers: entries } },
  } satisfies Frame;
}

/** The next frame of `kind`, skipping window updates. */
export async function expectFrame<C extends Kind["$case"]>(
  side: OperatorSide,
  kind: C,
): Promise<{ streamId: number; value: Extract<Kind, { $case: C }>["value"] }> {
  for (;;) {
    const frame = await side.nextFrame();
    if (frame.kind?.$case === "windowUpdate" && kind !== "windowUpdate") continue;
    expect(frame.kind?.$case).toBe(kind);
    return { streamId: frame.streamId, value: frame.kind!.value as never };
  }
}
