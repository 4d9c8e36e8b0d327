// Protobuf wire primitives of the hand-written codec: varints and a bounds-checked cursor.

/** Bytes a varint of `value` (a uint32) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Writes `value` as a varint at `offset`; returns the offset after it. */
export function writeVarint(buffer: Buffer, offset: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buffer[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buffer[offset++] = v;
  return offset;
}

/** A cursor over a protobuf buffer; throws on malformed input. */
export class ProtoReader {
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
