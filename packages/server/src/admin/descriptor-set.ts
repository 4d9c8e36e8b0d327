import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Checks that `bytes` look like a serialized google.protobuf.FileDescriptorSet
 * (`buf build -o set.binpb`, `protoc --descriptor_set_out --include_imports`):
 * only field 1 (`file`), length-delimited, lengths adding up exactly. It does
 * not decode the files; it catches a wrong file (a .proto, JSON, a truncated
 * copy) when the admin server is created instead of in an on-call engineer's
 * terminal. Throws INVALID_ARGUMENT saying how to make one.
 */
export function checkFileDescriptorSet(bytes: Uint8Array): Buffer {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const problem = findProblem(buffer);
  if (problem) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `fileDescriptorSet is not a serialized google.protobuf.FileDescriptorSet (${problem}); make one with "buf build -o set.binpb" or "protoc --include_imports --descriptor_set_out=set.binpb"`,
    );
  }
  return buffer;
}

function findProblem(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return "it is empty";
  let offset = 0;
  while (offset < bytes.length) {
    // Tag 0x0a: field 1, wire type 2 (length-delimited), the only field of a FileDescriptorSet.
    if (bytes[offset] !== 0x0a) return `unexpected byte 0x${bytes[offset]!.toString(16)} at offset ${offset}`;
    offset++;
    let length = 0;
    let shift = 0;
    for (;;) {
      if (offset >= bytes.length || shift > 28) return "a length runs past the end";
      const byte = bytes[offset++]!;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    offset += length;
  }
  return offset === bytes.length ? undefined : "the last file runs past the end";
}
