import { makeGenericClientConstructor } from "@grpc/grpc-js";
import {
  type Frame,
  PluginFrameworkServiceService,
  PluginStreamMessage,
} from "@operator-plugin-framework/proto";
import {
  decodeCancel,
  decodeHeaders,
  decodeNewStream,
  decodeStatus,
  metadataKindSize,
  writeMetadataKind,
} from "./frame-kinds.js";
import { ProtoReader, varintSize, writeVarint } from "./proto-reader.js";

/**
 * A hand-written codec for the hot path: a message carrying a frame batch is
 * encoded with one allocation and one copy of each payload, and decoded with
 * data chunks as views into the received buffer (no copy). Frame kinds with
 * metadata are hand-written too (frame-kinds.ts). Every other message goes
 * through the generated ts-proto code; the wire format stays exactly the
 * .proto's.
 */

const FRAMES_TAG = (6 << 3) | 2; // PluginStreamMessage.frames
const BATCH_FRAME_TAG = (1 << 3) | 2; // FrameBatch.frames
const STREAM_ID_TAG = 1 << 3; // Frame.stream_id
const EMPTY = Buffer.alloc(0);

const KIND_FIELDS = {
  newStream: 2,
  data: 3,
  halfClose: 4,
  cancel: 5,
  windowUpdate: 6,
  headers: 7,
  status: 8,
} as const;

// Per-frame sizes of the batch being encoded, reused across batches: encoding
// is synchronous, and an object per frame was a visible share of the GC.
const frameSizes: number[] = [];
const kindSizes: number[] = [];

function kindSize(kind: NonNullable<Frame["kind"]>): number {
  switch (kind.$case) {
    case "data": {
      const { data, more } = kind.value;
      return (data.length ? 1 + varintSize(data.length) + data.length : 0) + (more ? 2 : 0);
    }
    case "windowUpdate":
      return kind.value.increment ? 1 + varintSize(kind.value.increment) : 0;
    case "halfClose":
      return 0;
    default:
      return metadataKindSize(kind);
  }
}

/** Encodes a frame batch message with one allocation. */
function encodeFrames(frames: readonly Frame[]): Buffer {
  let batchSize = 0;
  for (let i = 0; i < frames.length; i++) {
    const { streamId, kind } = frames[i]!;
    const idSize = streamId ? 1 + varintSize(streamId) : 0;
    const ks = kind ? kindSize(kind) : 0;
    const size = kind ? idSize + 1 + varintSize(ks) + ks : idSize;
    kindSizes[i] = ks;
    frameSizes[i] = size;
    batchSize += 1 + varintSize(size) + size;
  }
  const out = Buffer.allocUnsafe(1 + varintSize(batchSize) + batchSize);
  let o = 0;
  out[o++] = FRAMES_TAG;
  o = writeVarint(out, o, batchSize);
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    out[o++] = BATCH_FRAME_TAG;
    o = writeVarint(out, o, frameSizes[i]!);
    if (frame.streamId) {
      out[o++] = STREAM_ID_TAG;
      o = writeVarint(out, o, frame.streamId);
    }
    const kind = frame.kind;
    if (!kind) continue;
    out[o++] = (KIND_FIELDS[kind.$case] << 3) | 2;
    o = writeVarint(out, o, kindSizes[i]!);
    switch (kind.$case) {
      case "data": {
        const { data, more } = kind.value;
        if (data.length) {
          out[o++] = (1 << 3) | 2;
          o = writeVarint(out, o, data.length);
          out.set(data, o);
          o += data.length;
        }
        if (more) {
          out[o++] = 2 << 3;
          out[o++] = 1;
        }
        break;
      }
      case "windowUpdate":
        if (kind.value.increment) {
          out[o++] = 1 << 3;
          o = writeVarint(out, o, kind.value.increment);
        }
        break;
      case "halfClose":
        break;
      default:
        o = writeMetadataKind(out, o, kind);
    }
  }
  return out;
}

/** Serializes a plugin stream message; frame batches take the fast path. */
export function encodePluginStreamMessage(message: PluginStreamMessage): Buffer {
  if (message.payload?.$case === "frames") return encodeFrames(message.payload.value.frames);
  const bytes = PluginStreamMessage.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeFrame(buf: Buffer, start: number, end: number): Frame {
  const r = new ProtoReader(buf, start, end);
  const frame: Frame = { streamId: 0, kind: undefined };
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 0) {
      frame.streamId = r.varint();
      continue;
    }
    if (wireType !== 2 || field < 2 || field > 8) {
      r.skip(wireType);
      continue;
    }
    const [s, e] = r.bytes();
    switch (field) {
      case 2:
        frame.kind = { $case: "newStream", value: decodeNewStream(buf, s, e) };
        break;
      case 3:
        frame.kind = { $case: "data", value: decodeData(buf, s, e) };
        break;
      case 4:
        frame.kind = { $case: "halfClose", value: {} };
        break;
      case 5:
        frame.kind = { $case: "cancel", value: decodeCancel(buf, s, e) };
        break;
      case 6:
        frame.kind = { $case: "windowUpdate", value: { increment: decodeIncrement(buf, s, e) } };
        break;
      case 7:
        frame.kind = { $case: "headers", value: decodeHeaders(buf, s, e) };
        break;
      case 8:
        frame.kind = { $case: "status", value: decodeStatus(buf, s, e) };
        break;
    }
  }
  return frame;
}

function decodeData(buf: Buffer, start: number, end: number): { data: Buffer; more: boolean } {
  const r = new ProtoReader(buf, start, end);
  let data: Buffer = EMPTY;
  let more = false;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | 2)) {
      const [s, e] = r.bytes();
      data = buf.subarray(s, e);
    } else if (tag === 2 << 3) more = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return { data, more };
}

function decodeIncrement(buf: Buffer, start: number, end: number): number {
  const r = new ProtoReader(buf, start, end);
  let increment = 0;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 1 << 3) increment = r.varint();
    else r.skip(tag & 7);
  }
  return increment;
}

/** Parses a plugin stream message; frame batches take the fast path. */
export function decodePluginStreamMessage(buf: Buffer): PluginStreamMessage {
  if (buf.length === 0 || buf[0] !== FRAMES_TAG) return PluginStreamMessage.decode(buf);
  const top = new ProtoReader(buf, 0, buf.length);
  let frames: Frame[] | undefined;
  while (top.pos < buf.length) {
    const tag = top.varint();
    if (tag !== FRAMES_TAG) {
      // Not only a frame batch (a later field overrides): let ts-proto decide.
      return PluginStreamMessage.decode(buf);
    }
    const [s, e] = top.bytes();
    frames = [];
    const batch = new ProtoReader(buf, s, e);
    while (batch.pos < e) {
      const t = batch.varint();
      if (t !== BATCH_FRAME_TAG) {
        batch.skip(t & 7);
        continue;
      }
      const [fs, fe] = batch.bytes();
      frames.push(decodeFrame(buf, fs, fe));
    }
  }
  return { payload: { $case: "frames", value: { frames: frames ?? [] } } };
}

/** The PluginFrameworkService definition with the fast codec. */
export const PluginStreamServiceDefinition = {
  pluginStream: {
    ...PluginFrameworkServiceService.pluginStream,
    requestSerialize: encodePluginStreamMessage,
    requestDeserialize: decodePluginStreamMessage,
    responseSerialize: encodePluginStreamMessage,
    responseDeserialize: decodePluginStreamMessage,
  },
} as const;

/** A grpc-js client class for the plugin stream with the fast codec. */
export const PluginStreamClient = makeGenericClientConstructor(
  PluginStreamServiceDefinition,
  "pluginframework.v1.PluginFrameworkService",
);
