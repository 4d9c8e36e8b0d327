import { once } from "node:events";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import { decodePluginStreamMessage, encodePluginStreamMessage } from "@operator-plugin-framework/wire";
import type { RawPluginStream } from "./raw-h2-stream.js";

const PADDING_TAG = (15 << 3) | 2; // an unknown FrameBatch field: skipped by every reader

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

/** One gRPC length-prefixed message. */
function grpcFrame(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

/**
 * A frame batch whose message is padded to about `padTo` bytes with an
 * unknown field, so that its frames are decoded from a buffer that large.
 */
export function paddedBatch(frames: Frame[], padTo: number): Buffer {
  const plain = encodePluginStreamMessage({ payload: { $case: "frames", value: { frames } } });
  let pos = 1;
  while (plain[pos]! >= 0x80) pos++;
  const body = plain.subarray(pos + 1);
  const padLength = Math.max(0, padTo - plain.length - 16);
  const padding = Buffer.concat([Buffer.from([PADDING_TAG, ...varint(padLength)]), Buffer.alloc(padLength)]);
  const batchLength = body.length + padding.length;
  return grpcFrame(Buffer.concat([Buffer.from([plain[0]!, ...varint(batchLength)]), body, padding]));
}

/** The messages of a raw plugin stream, decoded, and a writer for hand-made ones. */
export interface OffenderStream {
  /** Writes one message (or pre-framed bytes); resolves once the stream takes more. */
  write(message: PluginStreamMessage | Buffer): Promise<void>;
  onMessage(listener: (message: PluginStreamMessage) => void): void;
}

/** Decodes what the operator sends on `raw` (the stream must be reading) and writes in order. */
export function offenderStream(raw: RawPluginStream): OffenderStream {
  const listeners: ((message: PluginStreamMessage) => void)[] = [];
  let pending: Buffer = Buffer.alloc(0);
  raw.stream.on("data", (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      const message = decodePluginStreamMessage(Buffer.from(pending.subarray(5, 5 + length)));
      pending = pending.subarray(5 + length);
      for (const listener of listeners) listener(message);
    }
  });
  return {
    async write(message) {
      const bytes = Buffer.isBuffer(message) ? message : grpcFrame(encodePluginStreamMessage(message));
      if (raw.stream.destroyed) return;
      if (!raw.stream.write(bytes))
        await Promise.race([once(raw.stream, "drain"), once(raw.stream, "close")]);
    },
    onMessage(listener) {
      listeners.push(listener);
    },
  };
}

/** The stream ids the operator opened (`new_stream`) and cancelled (`cancel`, with its code), as they come. */
export function trackStreams(offender: OffenderStream): {
  onOpen(listener: (streamId: number) => void): void;
  readonly cancelled: Map<number, number>;
} {
  const openListeners: ((streamId: number) => void)[] = [];
  const cancelled = new Map<number, number>();
  offender.onMessage((message) => {
    if (message.payload?.$case !== "frames") return;
    for (const frame of message.payload.value.frames) {
      if (frame.kind?.$case === "newStream") for (const listener of openListeners) listener(frame.streamId);
      if (frame.kind?.$case === "cancel") cancelled.set(frame.streamId, frame.kind.value.code);
    }
  });
  return {
    onOpen: (listener) => openListeners.push(listener),
    cancelled,
  };
}
