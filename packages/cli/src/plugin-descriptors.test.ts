import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { connectPlugin, MAX_FILE_DESCRIPTOR_SET_BYTES, quietLogger } from "@operator-plugin-framework/client";
import { type TestServiceServer, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { createAdminServer } from "@operator-plugin-framework/server";
import { startTestServer } from "@operator-plugin-framework/testkit";
import protobuf from "protobufjs";
import { FileDescriptorSet } from "protobufjs/ext/descriptor/index.js";
import { describe, expect, it } from "vitest";
import { type CliIo, runCli } from "./cli.js";

const protoFile = (path: string) => fileURLToPath(new URL(`../../proto/proto/${path}`, import.meta.url));

/** A FileDescriptorSet as `buf build -o set.binpb` writes it, made here from the .proto. */
function descriptorSet(path: string): Uint8Array {
  const root = protobuf.loadSync(protoFile(path)) as unknown as {
    toDescriptor(edition: string): protobuf.Message;
  };
  return FileDescriptorSet.encode(root.toDescriptor("proto3")).finish();
}

const echo: Partial<TestServiceServer> = {
  unaryCall(call, callback) {
    callback(null, { payload: { body: Buffer.from(`echo ${call.request.payload?.body.toString()}`) } });
  },
};

function capture(): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (t) => out.push(t) }, stderr: { write: (t) => err.push(t) }, env: {} },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

describe("descriptors announced by plugins", () => {
  it("let opf call a service only the plugin knows, with --data JSON and no --proto", async () => {
    // The operator has no descriptors of its own: testing.v1 is known only to the plugin.
    await using operator = await startTestServer();
    const admin = createAdminServer({ registry: operator.registry, listen: "127.0.0.1:0", allowCalls: true });
    void admin.start();
    const address = await admin.ready();
    const plugin = connectPlugin({
      target: operator.target,
      name: "echo",
      logger: quietLogger,
      services: [[TestServiceService, echo]],
      allowPartialImplementation: true,
      fileDescriptorSet: descriptorSet("testing/v1/test.proto"),
      backoff: { initialMs: 20, maxMs: 200 },
    });
    try {
      await plugin.registered();
      const out = capture();
      const hi = Buffer.from("hi").toString("base64");
      const args = ["--admin", address, "call", "echo", "testing.v1.TestService/UnaryCall"];
      expect(await runCli([...args, "--data", JSON.stringify({ payload: { body: hi } })], out.io)).toBe(0);
      expect(JSON.parse(out.stdout())).toEqual({
        payload: { body: Buffer.from("echo hi").toString("base64") },
      });
      expect(out.stderr()).toBe("");
    } finally {
      await plugin.close();
      await admin.stop();
    }
  });

  it("are refused by connectPlugin over the limit or malformed, naming the limit and how to make one", () => {
    const common = { name: "big", target: "http://127.0.0.1:1", logger: quietLogger, services: [] };
    const oversize = Buffer.alloc(MAX_FILE_DESCRIPTOR_SET_BYTES + 1);
    expect(() => connectPlugin({ ...common, fileDescriptorSet: oversize })).toThrow(
      `connectPlugin: fileDescriptorSet is ${MAX_FILE_DESCRIPTOR_SET_BYTES + 1} bytes, over the limit of ${MAX_FILE_DESCRIPTOR_SET_BYTES}`,
    );
    expect(() => connectPlugin({ ...common, fileDescriptorSet: Buffer.from("not a set") })).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining("buf build"),
      }),
    );
  });
});
