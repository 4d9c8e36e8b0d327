import { status } from "@grpc/grpc-js";
import {
  fileDescriptorName,
  PluginFrameworkError,
  splitFileDescriptorSet,
} from "@operator-plugin-framework/wire";

/**
 * Checks that `bytes` look like a serialized google.protobuf.FileDescriptorSet
 * (`buf build -o set.binpb`, `protoc --descriptor_set_out --include_imports`);
 * see splitFileDescriptorSet. It catches a wrong file when the admin server
 * is created instead of in an on-call engineer's terminal. Throws
 * INVALID_ARGUMENT saying how to make one.
 */
export function checkFileDescriptorSet(bytes: Uint8Array): Buffer {
  const files = splitFileDescriptorSet(bytes);
  if (typeof files === "string") {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `fileDescriptorSet is not a serialized google.protobuf.FileDescriptorSet (${files}); make one with "buf build -o set.binpb" or "protoc --include_imports --descriptor_set_out=set.binpb"`,
    );
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One FileDescriptorSet made of several (the operator's, then each plugin's):
 * every file once, by name, the first one seen winning. Two plugins built
 * from the same .proto files announce the same files; a file that differs
 * between them is taken from the first.
 */
export function mergeFileDescriptorSets(sets: readonly Uint8Array[]): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  for (const set of sets) {
    const files = splitFileDescriptorSet(set);
    if (typeof files === "string") continue;
    for (const file of files) {
      const name = fileDescriptorName(file) ?? "";
      if (seen.has(name)) continue;
      seen.add(name);
      parts.push(Buffer.from([0x0a]), varint(file.length), file);
    }
  }
  return Buffer.concat(parts);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
