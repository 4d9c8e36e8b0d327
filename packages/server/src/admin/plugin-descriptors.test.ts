import type { PluginSession } from "@operator-plugin-framework/registry";
import {
  fileDescriptorName,
  MAX_FILE_DESCRIPTOR_SET_BYTES,
  splitFileDescriptorSet,
} from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { mergeFileDescriptorSets } from "./descriptor-set.js";
import { announcedDescriptors, keepAnnouncedDescriptors } from "./plugin-descriptors.js";

/** A serialized FileDescriptorProto with only a name (and, to tell copies apart, a package). */
function file(name: string, pkg = ""): Buffer {
  const field = (tag: number, text: string) =>
    Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text)]);
  return Buffer.concat([field(0x0a, name), ...(pkg ? [field(0x12, pkg)] : [])]);
}
const set = (...files: Buffer[]) => Buffer.concat(files.flatMap((f) => [Buffer.from([0x0a, f.length]), f]));

function capture() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const ignore = () => {};
  const logger = {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }),
  };
  return { logger, warnings };
}

const session = (name: string) => ({ id: `${name}-1`, name }) as PluginSession;

describe("descriptors a plugin announces at registration", () => {
  it("are kept for the admin service when they are a FileDescriptorSet within the limit", () => {
    const { logger, warnings } = capture();
    const s = session("dns");
    keepAnnouncedDescriptors(s, set(file("a.proto")), logger);
    expect(announcedDescriptors(s)).toEqual(set(file("a.proto")));
    expect(warnings).toEqual([]);
  });

  it("are ignored with a warning naming the plugin, the size and the limit when over it", () => {
    const { logger, warnings } = capture();
    const s = session("big");
    keepAnnouncedDescriptors(s, Buffer.alloc(MAX_FILE_DESCRIPTOR_SET_BYTES + 1, 0x0a), logger);
    expect(announcedDescriptors(s)).toBeUndefined();
    expect(warnings).toEqual([
      {
        fields: {
          plugin: "big",
          session: "big-1",
          bytes: MAX_FILE_DESCRIPTOR_SET_BYTES + 1,
          limit: MAX_FILE_DESCRIPTOR_SET_BYTES,
        },
        message: expect.stringContaining("over the limit and ignored"),
      },
    ]);
  });

  it("are ignored with a warning when they are not a FileDescriptorSet", () => {
    const { logger, warnings } = capture();
    const s = session("bad");
    keepAnnouncedDescriptors(s, Buffer.from('syntax = "proto3";'), logger);
    expect(announcedDescriptors(s)).toBeUndefined();
    expect(warnings[0]?.fields).toMatchObject({ plugin: "bad", problem: "unexpected byte 0x73 at offset 0" });
  });

  it("merge with the operator's, each file once by name, the first one winning", () => {
    const merged = mergeFileDescriptorSets([
      set(file("operator.proto"), file("google/protobuf/empty.proto", "first")),
      set(file("google/protobuf/empty.proto", "second"), file("plugin.proto")),
    ]);
    const files = splitFileDescriptorSet(merged) as Buffer[];
    expect(files.map(fileDescriptorName)).toEqual([
      "operator.proto",
      "google/protobuf/empty.proto",
      "plugin.proto",
    ]);
    expect(files[1]).toEqual(file("google/protobuf/empty.proto", "first"));
  });
});
