import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { type GreeterServiceServer, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { type AdminServer, createAdminServer, createPluginRegistry } from "@operator-plugin-framework/server";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import protobuf from "protobufjs";
import { FileDescriptorSet } from "protobufjs/ext/descriptor/index.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CliIo, runCli } from "./cli.js";

const greeterProto = fileURLToPath(new URL("../../proto/proto/example/v1/greeter.proto", import.meta.url));

const greeter: Partial<GreeterServiceServer> = {
  sayHello(call, callback) {
    if (call.request.name === "fail")
      return callback({ code: status.NOT_FOUND, details: "no such greeting" });
    callback(null, {
      message: `hello ${call.request.name}`,
      servedBy: call.metadata.get("x-who")[0]?.toString() ?? "",
    });
  },
  countGreetings(call) {
    for (let i = 1; i <= call.request.count; i++)
      call.write({ message: `hello ${call.request.name} #${i}`, servedBy: "" });
    call.end();
  },
};

function capture(extra: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    env: {},
    ...extra,
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("opf call with the operator's descriptors instead of --proto", () => {
  it("encodes --data and decodes the replies from the admin service's FileDescriptorSet", async () => {
    // The descriptors as an operator would ship them (buf build -o set.binpb), made here from the .proto.
    const fileDescriptorSet = FileDescriptorSet.encode(
      (
        protobuf.loadSync(greeterProto) as unknown as { toDescriptor(edition: string): protobuf.Message }
      ).toDescriptor("proto3"),
    ).finish();
    await using operator = await startTestServer();
    const admin = createAdminServer({
      registry: operator.registry,
      listen: "127.0.0.1:0",
      fileDescriptorSet,
    });
    void admin.start();
    const address = await admin.ready();
    const plugin = connectPlugin({
      target: operator.target,
      name: "aws",
      services: [[GreeterServiceService, greeter]],
      allowPartialImplementation: true,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    try {
      await plugin.registered();
      const unary = capture();
      const call = ["--admin", address, "call", "aws", "example.v1.GreeterService/SayHello"];
      expect(await runCli([...call, "--data", '{"name":"Ada"}', "-H", "x-who: cli"], unary.io)).toBe(0);
      expect(unary.stdout()).toBe('{"message":"hello Ada","servedBy":"cli"}\n');
      const streaming = capture();
      const count = ["--admin", address, "call", "aws", "example.v1.GreeterService/CountGreetings"];
      expect(await runCli([...count, "--data", '{"name":"Bo","count":2}'], streaming.io)).toBe(0);
      expect(streaming.stdout()).toBe(
        '{"message":"hello Bo #1","servedBy":""}\n{"message":"hello Bo #2","servedBy":""}\n',
      );
      // A typo is caught against the operator's descriptors too, naming where the types came from.
      const typo = capture();
      expect(await runCli([...call, "--data", '{"nmae":"x"}'], typo.io)).toBe(2);
      expect(typo.stderr()).toContain("--data has fields example.v1.SayHelloRequest does not have: nmae");
      const unknown = capture();
      expect(await runCli(["--admin", address, "call", "aws", "example.v1.Nope/X"], unknown.io)).toBe(2);
      expect(unknown.stderr()).toBe(
        "opf: service example.v1.Nope is not defined in the descriptors of the operator and its plugins (pass --proto to use your own .proto files)\n",
      );
    } finally {
      await plugin.close();
      await admin.stop();
    }
  });

  it("createAdminServer refuses bytes that are not a FileDescriptorSet", () => {
    for (const bytes of [
      Buffer.alloc(0),
      Buffer.from('syntax = "proto3";'),
      Buffer.from([0x0a, 0x05, 0x01]),
    ]) {
      expect(() =>
        createAdminServer({
          registry: createPluginRegistry(),
          listen: "127.0.0.1:0",
          fileDescriptorSet: bytes,
        }),
      ).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }));
    }
    expect(() =>
      createAdminServer({
        registry: createPluginRegistry(),
        listen: "127.0.0.1:0",
        fileDescriptorSet: Buffer.alloc(0),
      }),
    ).toThrow(
      'fileDescriptorSet is not a serialized google.protobuf.FileDescriptorSet (it is empty); make one with "buf build -o set.binpb"',
    );
  });
});

describe("opf against a running operator's admin service", () => {
  let operator: TestServer;
  let admin: AdminServer;
  let address: string;
  const plugins: PluginConnection[] = [];

  async function addPlugin(name: string, version = "1.2.3"): Promise<PluginConnection> {
    const connection = connectPlugin({
      target: operator.target,
      name,
      version,
      services: [[GreeterServiceService, greeter]],
      allowPartialImplementation: true,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    plugins.push(connection);
    await connection.registered();
    return connection;
  }

  beforeEach(async () => {
    operator = await startTestServer();
    admin = createAdminServer({ registry: operator.registry, listen: "127.0.0.1:0" });
    void admin.start();
    address = await admin.ready();
  });

  afterEach(async () => {
    await Promise.all(plugins.splice(0).map((p) => p.close()));
    await admin.stop();
    await operator.close();
  });

  it("plugins: lists name, version, services and sessions", async () => {
    await addPlugin("aws");
    await addPlugin("aws");
    await addPlugin("gcp", "2.0.0");
    const { io, stdout } = capture();
    expect(await runCli(["--admin", address, "plugins"], io)).toBe(0);
    const lines = stdout().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+IDENTITY\s+SERVICES\s+SESSIONS\s+IN-FLIGHT\s+AGE$/);
    expect(lines[1]).toMatch(/^aws\s+1\.2\.3\s+-\s+example\.v1\.GreeterService\s+2\s+0\s+\d+s$/);
    expect(lines[2]).toMatch(/^gcp\s+2\.0\.0\s+-\s+example\.v1\.GreeterService\s+1\s+0\s+\d+s$/);
  });

  it("plugins --json and describe show every session and method", async () => {
    await addPlugin("aws");
    const json = capture();
    expect(await runCli(["--admin", address, "plugins", "--json"], json.io)).toBe(0);
    const parsed = JSON.parse(json.stdout());
    expect(parsed).toHaveLength(1);
    expect(parsed[0].name).toBe("aws");
    expect(parsed[0].sessions[0].services[0].methods.map((m: { name: string }) => m.name)).toEqual([
      "SayHello",
      "CountGreetings",
      "CollectNames",
      "Chat",
    ]);
    const text = capture({ env: { OPF_ADMIN: address } });
    expect(await runCli(["describe", "aws"], text.io)).toBe(0);
    expect(text.stdout()).toContain("Name:      aws");
    expect(text.stdout()).toContain("example.v1.GreeterService/CountGreetings (server-streaming)");
    expect(text.stdout()).toContain("State:      serving, 0 call(s) in flight");
  });

  it("describe of an unknown plugin fails with exit 1 and names the registered ones", async () => {
    await addPlugin("aws");
    const { io, stderr } = capture();
    expect(await runCli(["--admin", address, "describe", "azure"], io)).toBe(1);
    expect(stderr()).toContain('NOT_FOUND: plugin "azure" is not registered; registered: aws');
  });

  it("call: JSON in, the plugin's reply as JSON out, metadata passed", async () => {
    await addPlugin("aws");
    const { io, stdout } = capture();
    const argv = ["--admin", address, "call", "aws", "example.v1.GreeterService/SayHello"];
    const code = await runCli(
      [...argv, "--proto", greeterProto, "--data", '{"name":"Ada"}', "-H", "x-who: cli"],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toEqual({ message: "hello Ada", servedBy: "cli" });
  });

  it("call: a server-streaming method prints one JSON line per reply", async () => {
    await addPlugin("aws");
    const { io, stdout } = capture();
    const argv = [
      "--admin",
      address,
      "call",
      "aws",
      "/example.v1.GreeterService/CountGreetings",
      "--proto",
      greeterProto,
    ];
    expect(await runCli([...argv, "--data", '{"name":"Linus","count":3}'], io)).toBe(0);
    expect(
      stdout()
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).message),
    ).toEqual(["hello Linus #1", "hello Linus #2", "hello Linus #3"]);
  });

  it("call: the plugin's status becomes exit 1 with the status printed", async () => {
    await addPlugin("aws");
    const { io, stderr } = capture();
    const argv = [
      "--admin",
      address,
      "call",
      "aws",
      "example.v1.GreeterService/SayHello",
      "--proto",
      greeterProto,
    ];
    expect(await runCli([...argv, "--data", '{"name":"fail"}'], io)).toBe(1);
    expect(stderr()).toContain("NOT_FOUND: no such greeting");
  });

  it("call: refuses unannounced and client-streaming methods with what the plugin offers", async () => {
    await addPlugin("aws");
    const unknown = capture();
    const base = ["--admin", address, "call", "aws"];
    expect(
      await runCli([...base, "example.v1.GreeterService/Nope", "--proto", greeterProto], unknown.io),
    ).toBe(2);
    expect(unknown.stderr()).toContain("GreeterService has no method Nope; it has: SayHello, CountGreetings");
    const streaming = capture();
    expect(
      await runCli(
        [...base, "example.v1.GreeterService/CollectNames", "--proto", greeterProto],
        streaming.io,
      ),
    ).toBe(1);
    expect(streaming.stderr()).toContain("UNIMPLEMENTED");
    expect(streaming.stderr()).toContain("unary and server-streaming methods only");
  });

  it("call: usage errors are caught before dialing, with exit 2", async () => {
    const cases: [string[], string][] = [
      [["call", "aws", "example.v1.GreeterService/SayHello", "--data", "{bad"], "--data is not JSON"],
      [
        ["call", "aws", "example.v1.GreeterService/SayHello", "--proto", greeterProto, "--data", "{bad"],
        "--data is not JSON",
      ],
      [
        [
          "call",
          "aws",
          "example.v1.GreeterService/SayHello",
          "--proto",
          greeterProto,
          "--data",
          '{"nmae":"x"}',
        ],
        "does not have: nmae",
      ],
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["describe"], "missing or extra arguments"],
    ];
    for (const [argv, message] of cases) {
      let dialed = false;
      const { io, stderr } = capture({
        connect: () => {
          dialed = true;
          throw new Error("must not dial");
        },
      });
      expect(await runCli(["--admin", address, ...argv], io), argv.join(" ")).toBe(2);
      expect(stderr(), argv.join(" ")).toContain(message);
      expect(dialed).toBe(false);
    }
  });

  it("call without --proto: exit 2 naming --proto when the operator serves no descriptors", async () => {
    await addPlugin("aws");
    const { io, stderr } = capture();
    const argv = ["--admin", address, "call", "aws", "example.v1.GreeterService/SayHello", "--data", "{}"];
    expect(await runCli(argv, io)).toBe(2);
    expect(stderr()).toBe(
      "opf: the message types of /example.v1.GreeterService/SayHello are unknown: neither the operator nor a plugin announced descriptors (connectPlugin's fileDescriptorSet option), so pass its service's .proto file with --proto (and -I for the directories its imports live in)\n",
    );
  });

  it("watch: prints registrations and removals as they happen, until the signal aborts", async () => {
    const controller = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    let changed: () => void = () => {};
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        changed = () => done() && resolve();
        changed();
      });
    const record = (lines: string[]) => ({
      write: (t: string) => {
        lines.push(t);
        changed();
      },
    });
    const io: CliIo = { stdout: record(out), stderr: record(err), env: {}, signal: controller.signal };
    const running = runCli(["--admin", address, "watch"], io);
    await until(() => err.some((line) => line.includes("watching plugins")));
    const connection = await addPlugin("aws");
    await until(() => out.length >= 1);
    await connection.close();
    await until(() => out.length >= 2);
    controller.abort();
    expect(await running).toBe(0);
    expect(out[0]).toMatch(/ registered aws v1\.2\.3 session \S+ \(1 session\(s\) now\)/);
    expect(out[1]).toMatch(/ unregistered aws v1\.2\.3 session \S+ \(0 session\(s\) now\)/);
  });

  it("an unreachable admin service is exit 3 with what to check", async () => {
    await admin.stop();
    const { io, stderr } = capture();
    expect(await runCli(["--admin", address, "plugins"], io)).toBe(3);
    expect(stderr()).toContain(`cannot reach the operator's admin service at ${address}`);
  });
});

describe("the admin server", () => {
  it("refuses a non-loopback address, since it has no authentication", async () => {
    const operator = await startTestServer();
    try {
      expect(() => createAdminServer({ registry: operator.registry, listen: "0.0.0.0:9091" })).toThrow(
        /not loopback; the admin service has no authentication/,
      );
    } finally {
      await operator.close();
    }
  });
});
