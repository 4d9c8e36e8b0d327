/**
 * The largest `file_descriptor_set` a plugin may announce at registration:
 * 1 MiB. The descriptors of a plugin's services with all their imports
 * (google/protobuf/*.proto included) are typically a few to a few hundred KiB.
 * connectPlugin refuses a larger set; the operator ignores one, with a warning.
 */
export const MAX_FILE_DESCRIPTOR_SET_BYTES = 1024 * 1024;

/**
 * Splits a serialized google.protobuf.FileDescriptorSet (`buf build -o
 * set.binpb`, `protoc --include_imports --descriptor_set_out`) into its
 * serialized FileDescriptorProtos, without decoding them. Returns a string
 * saying what is wrong instead when the bytes are not one: only field 1
 * (`file`), length-delimited, lengths adding up exactly. That catches a wrong
 * file (a .proto, JSON, a truncated copy).
 */
export function splitFileDescriptorSet(bytes: Uint8Array): Buffer[] | string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length === 0) return "it is empty";
  const files: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    // Tag 0x0a: field 1, wire type 2 (length-delimited), the only field of a FileDescriptorSet.
    if (buffer[offset] !== 0x0a)
      return `unexpected byte 0x${buffer[offset]!.toString(16)} at offset ${offset}`;
    const length = readLength(buffer, offset + 1);
    if (!length) return "a length runs past the end";
    const start = length.next;
    offset = start + length.value;
    if (offset > buffer.length) return "the last file runs past the end";
    files.push(buffer.subarray(start, offset));
  }
  return files;
}

/** The `name` (field 1) of a serialized FileDescriptorProto, such as "example/v1/greeter.proto". */
export function fileDescriptorName(file: Buffer): string | undefined {
  let offset = 0;
  while (offset < file.length) {
    // Every field of a FileDescriptorProto has a one-byte tag (field numbers up to 15).
    const tag = file[offset++]!;
    const wireType = tag & 0x07;
    if (wireType === 0) {
      while (offset < file.length && file[offset++]! >= 0x80) {}
      continue;
    }
    if (wireType !== 2) return undefined;
    const length = readLength(file, offset);
    if (!length) return undefined;
    if (tag === 0x0a) return file.toString("utf8", length.next, length.next + length.value);
    offset = length.next + length.value;
  }
  return undefined;
}

function readLength(bytes: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  let offset = at;
  for (;;) {
    if (offset >= bytes.length || shift > 28) return undefined;
    const byte = bytes[offset++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return { value, next: offset };
  }
}
