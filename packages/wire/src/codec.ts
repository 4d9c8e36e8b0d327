import { makeGenericClientConstructor } from "@grpc/grpc-js";
import {
  Cancel,
  type Frame,
  Headers,
  NewStream,
  PluginFrameworkServiceService,
  PluginStreamMessage,
  Status,
} from "@operator-plugin-framework/proto";

/**
 * A hand-written codec for the hot path: a message carrying a frame batch is
 * encoded with one allocation and one copy of each payload, and decoded with
 * data chunks as views into the received buffer (no copy). Everything else,
 * and every frame kind that carries metadata, goes through the generated
 * ts-proto code, so the wire format stays exactly the .proto's.
 */

const FRAMES_TAG = (6 << 3) | 2; // PluginStreamMessage.frames
const BATCH_FRAME_TAG = (1 << 3) | 2; // FrameBatch.frames
const STREAM_ID_TAG = 1 << 3; // Frame.stream_id
const EMPTY = Buffer.alloc(0);

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

function writeVarint(buffer: Buffer, offset: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buffer[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[offset++] = v;
  return offset;
}

/** One frame's plan: its body size, and what the kind field holds. */
interface Planned {
  size: number;
  frame: Frame;
  /** Field number of the kind. */
  field: number;
  /** Size of the kind's message. */
  kindSize: number;
  /** The kind's message, pre-encoded by ts-proto (kinds that carry metadata). */
  encoded: Uint8Array | undefined;
}

const KIND_FIELDS = {
  newStream: 2,
  data: 3,
  halfClose: 4,
  cancel: 5,
  windowUpdate: 6,
  headers: 7,
  status: 8,
} as const;

function plan(frame: Frame): Planned {
  const kind = frame.kind;
  const idSize = frame.streamId ? 1 + varintSize(frame.streamId) : 0;
  if (!kind) return { size: idSize, frame, field: 0, kindSize: 0, encoded: undefined };
  let kindSize = 0;
  let encoded: Uint8Array | undefined;
  switch (kind.$case) {
    case "data":
      kindSize =
        (kind.value.data.length ? 1 + varintSize(kind.value.data.length) + kind.value.data.length : 0) +
        (kind.value.more ? 2 : 0);
      break;
    case "windowUpdate":
      kindSize = kind.value.increment ? 1 + varintSize(kind.value.increment) : 0;
      break;
    case "halfClose":
      break;
    case "newStream":
      encoded = NewStream.encode(kind.value).finish();
      break;
    case "cancel":
      encoded = Cancel.encode(kind.value).finish();
      break;
    case "headers":
      encoded = Headers.encode(kind.value).finish();
      break;
    case "status":
      encoded = Status.encode(kind.value).finish();
      break;
  }
  if (encoded) kindSize = encoded.length;
  return {
    size: idSize + 1 + varintSize(kindSize) + kindSize,
    frame,
    field: KIND_FIELDS[kind.$case],
    kindSize,
    encoded,
  };
}

/** Encodes a frame batch message with one allocation. */
function encodeFrames(frames: readonly Frame[]): Buffer {
  const planned = frames.map(plan);
  let batchSize = 0;
  for (const p of planned) batchSize += 1 + varintSize(p.size) + p.size;
  const out = Buffer.allocUnsafe(1 + varintSize(batchSize) + batchSize);
  let o = 0;
  out[o++] = FRAMES_TAG;
  o = writeVarint(out, o, batchSize);
  for (const p of planned) {
    out[o++] = BATCH_FRAME_TAG;
    o = writeVarint(out, o, p.size);
    const { frame } = p;
    if (frame.streamId) {
      out[o++] = STREAM_ID_TAG;
      o = writeVarint(out, o, frame.streamId);
    }
    const kind = frame.kind;
    if (!kind) continue;
    out[o++] = (p.field << 3) | 2;
    o = writeVarint(out, o, p.kindSize);
    if (p.encoded) {
      out.set(p.encoded, o);
      o += p.encoded.length;
    } else if (kind.$case === "data") {
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
    } else if (kind.$case === "windowUpdate" && kind.value.increment) {
      out[o++] = 1 << 3;
      o = writeVarint(out, o, kind.value.increment);
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

/** A cursor over a protobuf buffer; throws on malformed input. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.buf[this.pos++]!;
      if (shift < 28) result |= (byte & 0x7f) << shift;
      else if (shift < 35) result += (byte & 0x7f) * 2 ** shift;
      else if (shift >= 70) throw new Error("varint too long");
      if (byte < 0x80) return result >>> 0 === result ? result : result >>> 0;
      shift += 7;
    }
  }
  bytes(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new Error("length out of range");
    this.pos = start + length;
    return [start, this.pos];
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`invalid wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Error("truncated field");
  }
}

function decodeFrame(buf: Buffer, start: number, end: number): Frame {
  const r = new Reader(buf, start, end);
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
    const sub = buf.subarray(s, e);
    switch (field) {
      case 2:
        frame.kind = { $case: "newStream", value: NewStream.decode(sub) };
        break;
      case 3:
        frame.kind = { $case: "data", value: decodeData(buf, s, e) };
        break;
      case 4:
        frame.kind = { $case: "halfClose", value: {} };
        break;
      case 5:
        frame.kind = { $case: "cancel", value: Cancel.decode(sub) };
        break;
      case 6:
        frame.kind = { $case: "windowUpdate", value: { increment: decodeIncrement(buf, s, e) } };
        break;
      case 7:
        frame.kind = { $case: "headers", value: Headers.decode(sub) };
        break;
      case 8:
        frame.kind = { $case: "status", value: Status.decode(sub) };
        break;
    }
  }
  return frame;
}

function decodeData(buf: Buffer, start: number, end: number): { data: Buffer; more: boolean } {
  const r = new Reader(buf, start, end);
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
  const r = new Reader(buf, start, end);
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
  const top = new Reader(buf, 0, buf.length);
  let frames: Frame[] | undefined;
  while (top.pos < buf.length) {
    const tag = top.varint();
    if (tag !== FRAMES_TAG) {
      // Not only a frame batch (a later field overrides): let ts-proto decide.
      return PluginStreamMessage.decode(buf);
    }
    const [s, e] = top.bytes();
    frames = [];
    const batch = new Reader(buf, s, e);
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
