import type { Cancel, Headers, MetadataEntry, NewStream, Status } from "@operator-plugin-framework/proto";
import { ProtoReader, varintSize, writeVarint } from "./proto-reader.js";

/**
 * Hand-written encoders and decoders of the frame kinds that carry metadata
 * or strings (new_stream, cancel, headers, status), for the codec's hot path:
 * every call has a new_stream, headers and a status, and ts-proto's writer
 * allocated and copied several buffers for each. The wire format and the
 * decoded objects are exactly ts-proto's (codec.test.ts checks both against
 * the generated code): proto3 defaults are not written, and decoding fills
 * them in.
 */

/** The kinds this file encodes. */
export type MetadataKind =
  | { $case: "newStream"; value: NewStream }
  | { $case: "cancel"; value: Cancel }
  | { $case: "headers"; value: Headers }
  | { $case: "status"; value: Status };

const utf8Size = (value: string) => (value.length === 0 ? 0 : Buffer.byteLength(value, "utf8"));
/** Size of a length-delimited field with a body of `size` bytes, tag included. */
const fieldSize = (size: number) => 1 + varintSize(size) + size;

function entrySize(entry: MetadataEntry): number {
  return (
    (entry.key.length ? fieldSize(utf8Size(entry.key)) : 0) +
    (entry.value.length ? fieldSize(utf8Size(entry.value)) : 0) +
    (entry.binaryValue.length ? fieldSize(entry.binaryValue.length) : 0)
  );
}

function entriesSize(entries: readonly MetadataEntry[]): number {
  let size = 0;
  for (const entry of entries) size += fieldSize(entrySize(entry));
  return size;
}

/** Encoded size of a kind's message body. */
export function metadataKindSize(kind: MetadataKind): number {
  switch (kind.$case) {
    case "newStream": {
      const { method, metadata, timeoutMs } = kind.value;
      return (
        (method.length ? fieldSize(utf8Size(method)) : 0) +
        entriesSize(metadata) +
        (timeoutMs !== undefined ? 1 + varintSize(timeoutMs) : 0)
      );
    }
    case "cancel": {
      const { code, message } = kind.value;
      return (code ? 1 + varintSize(code) : 0) + (message.length ? fieldSize(utf8Size(message)) : 0);
    }
    case "headers":
      return entriesSize(kind.value.metadata);
    case "status": {
      const { code, message, details, trailers } = kind.value;
      return (
        (code ? 1 + varintSize(code) : 0) +
        (message.length ? fieldSize(utf8Size(message)) : 0) +
        (details.length ? fieldSize(details.length) : 0) +
        entriesSize(trailers)
      );
    }
  }
}

function writeString(out: Buffer, o: number, field: number, value: string): number {
  if (value.length === 0) return o;
  out[o++] = (field << 3) | 2;
  o = writeVarint(out, o, utf8Size(value));
  return o + out.write(value, o, "utf8");
}

function writeBytes(out: Buffer, o: number, field: number, value: Uint8Array): number {
  if (value.length === 0) return o;
  out[o++] = (field << 3) | 2;
  o = writeVarint(out, o, value.length);
  out.set(value, o);
  return o + value.length;
}

function writeUint32(out: Buffer, o: number, field: number, value: number): number {
  out[o++] = field << 3;
  return writeVarint(out, o, value);
}

function writeEntries(out: Buffer, o: number, field: number, entries: readonly MetadataEntry[]): number {
  for (const entry of entries) {
    out[o++] = (field << 3) | 2;
    o = writeVarint(out, o, entrySize(entry));
    o = writeString(out, o, 1, entry.key);
    o = writeString(out, o, 2, entry.value);
    o = writeBytes(out, o, 3, entry.binaryValue);
  }
  return o;
}

/** Writes a kind's message body at `o`; returns the offset after it. */
export function writeMetadataKind(out: Buffer, o: number, kind: MetadataKind): number {
  switch (kind.$case) {
    case "newStream": {
      const { method, metadata, timeoutMs } = kind.value;
      o = writeString(out, o, 1, method);
      o = writeEntries(out, o, 2, metadata);
      return timeoutMs !== undefined ? writeUint32(out, o, 3, timeoutMs) : o;
    }
    case "cancel": {
      const { code, message } = kind.value;
      if (code) o = writeUint32(out, o, 1, code);
      return writeString(out, o, 2, message);
    }
    case "headers":
      return writeEntries(out, o, 1, kind.value.metadata);
    case "status": {
      const { code, message, details, trailers } = kind.value;
      if (code) o = writeUint32(out, o, 1, code);
      o = writeString(out, o, 2, message);
      o = writeBytes(out, o, 3, details);
      return writeEntries(out, o, 4, trailers);
    }
  }
}

// Decoding: a field whose wire type is not the one the .proto gives is
// skipped, as ts-proto does. Bytes are copied out, so that a message kept
// after its batch does not pin the batch.

const LEN = 2;
const VARINT = 0;
/**
 * The empty bytes of a status or entry without any: shared, since
 * ts-proto's fresh `Buffer.alloc(0)` for each was a measurable share of the
 * decode. Nothing can write into a zero-length buffer.
 */
const EMPTY = Buffer.alloc(0);

function readString(r: ProtoReader): string {
  const [s, e] = r.bytes();
  return r.buf.toString("utf8", s, e);
}

function readBytes(r: ProtoReader): Buffer {
  const [s, e] = r.bytes();
  return Buffer.from(r.buf.subarray(s, e));
}

function decodeEntry(buf: Buffer, start: number, end: number): MetadataEntry {
  const r = new ProtoReader(buf, start, end);
  const entry: MetadataEntry = { key: "", value: "", binaryValue: EMPTY };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN)) entry.key = readString(r);
    else if (tag === ((2 << 3) | LEN)) entry.value = readString(r);
    else if (tag === ((3 << 3) | LEN)) entry.binaryValue = readBytes(r);
    else r.skip(tag & 7);
  }
  return entry;
}

function readEntry(r: ProtoReader): MetadataEntry {
  const [s, e] = r.bytes();
  return decodeEntry(r.buf, s, e);
}

export function decodeNewStream(buf: Buffer, start: number, end: number): NewStream {
  const r = new ProtoReader(buf, start, end);
  const value: NewStream = { method: "", metadata: [], timeoutMs: undefined };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN)) value.method = readString(r);
    else if (tag === ((2 << 3) | LEN)) value.metadata.push(readEntry(r));
    else if (tag === ((3 << 3) | VARINT)) value.timeoutMs = r.varint() >>> 0;
    else r.skip(tag & 7);
  }
  return value;
}

export function decodeCancel(buf: Buffer, start: number, end: number): Cancel {
  const r = new ProtoReader(buf, start, end);
  const value: Cancel = { code: 0, message: "" };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | VARINT)) value.code = r.varint() >>> 0;
    else if (tag === ((2 << 3) | LEN)) value.message = readString(r);
    else r.skip(tag & 7);
  }
  return value;
}

export function decodeHeaders(buf: Buffer, start: number, end: number): Headers {
  const r = new ProtoReader(buf, start, end);
  const value: Headers = { metadata: [] };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN)) value.metadata.push(readEntry(r));
    else r.skip(tag & 7);
  }
  return value;
}

export function decodeStatus(buf: Buffer, start: number, end: number): Status {
  const r = new ProtoReader(buf, start, end);
  const value: Status = { code: 0, message: "", details: EMPTY, trailers: [] };
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | VARINT)) value.code = r.varint() >>> 0;
    else if (tag === ((2 << 3) | LEN)) value.message = readString(r);
    else if (tag === ((3 << 3) | LEN)) value.details = readBytes(r);
    else if (tag === ((4 << 3) | LEN)) value.trailers.push(readEntry(r));
    else r.skip(tag & 7);
  }
  return value;
}
