import { ProtoReader } from "./proto-reader.js";

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
  const reader = new ProtoReader(buffer, 0, buffer.length);
  while (reader.pos < reader.end) {
    // Tag 0x0a: field 1, wire type 2 (length-delimited), the only field of a FileDescriptorSet.
    if (buffer[reader.pos] !== 0x0a)
      return `unexpected byte 0x${buffer[reader.pos]!.toString(16)} at offset ${reader.pos}`;
    reader.pos++;
    try {
      const [start, end] = reader.bytes();
      files.push(buffer.subarray(start, end));
    } catch {
      return "a file's length runs past the end";
    }
  }
  return files;
}

/** The `name` (field 1) of a serialized FileDescriptorProto, such as "example/v1/greeter.proto". */
export function fileDescriptorName(file: Buffer): string | undefined {
  const reader = new ProtoReader(file, 0, file.length);
  try {
    while (reader.pos < reader.end) {
      const tag = reader.varint();
      if (tag !== 0x0a) {
        reader.skip(tag & 0x07);
        continue;
      }
      const [start, end] = reader.bytes();
      return file.toString("utf8", start, end);
    }
  } catch {
    // Malformed: no name.
  }
  return undefined;
}
