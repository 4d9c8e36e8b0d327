import { parseArgs } from "node:util";
import { type AdminConnection, connectAdmin } from "./admin-connection.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { formatEvent, formatPluginDescription, formatPluginTable } from "./format.js";
import { loadMethodCodec, type MethodCodec, methodCodecFromDescriptors } from "./message-types.js";

/** Where the CLI reads and writes; a test passes its own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** Ends `watch`; the bin aborts it on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Connects to the admin service; a test may wrap it. Default: {@link connectAdmin}. */
  connect?: (address: string) => AdminConnection;
}

export const DEFAULT_ADMIN_ADDRESS = "127.0.0.1:9091";

export const USAGE = `usage: opf [--admin ADDRESS] COMMAND

Commands:
  plugins [--json]                       registered plugins: name, version, identity, services, sessions, in-flight, age
  describe NAME [--json]                 every session of one plugin, with its methods
  call NAME SERVICE/METHOD [--data JSON] [--proto FILE [-I DIR]] [--timeout MS] [-H 'key: value']
                                         call a unary or server-streaming method through the plugin's session;
                                         replies print as JSON, one per line. Message types come from --proto,
                                         else from the descriptors of the operator (its admin fileDescriptorSet)
                                         and its plugins (connectPlugin's fileDescriptorSet)
  watch                                  registrations and removals as they happen (Ctrl-C to stop)

Options:
  --admin ADDRESS   the operator's admin service: host:port on loopback or unix:///path
                    (default: $OPF_ADMIN, else ${DEFAULT_ADMIN_ADDRESS})
  -h, --help        this text

Exit codes: 0 ok, 1 the operator answered with an error, 2 usage error, 3 admin service unreachable.
`;

/** Runs one `opf` command line; resolves with the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`opf: ${err.message}\n`);
      if (err.exitCode === ExitCode.usage && /^unknown command|^missing/.test(err.message))
        io.stderr.write(USAGE);
      return err.exitCode;
    }
    io.stderr.write(`opf: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return ExitCode.failed;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new CliError(ExitCode.usage, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? io.stdout : io.stderr).write(USAGE);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  const [command, ...args] = positionals;
  const address = values.admin ?? io.env.OPF_ADMIN ?? DEFAULT_ADMIN_ADDRESS;
  const connect = io.connect ?? connectAdmin;
  const needArgs = (count: number, names: string) => {
    if (args.length !== count)
      throw new CliError(ExitCode.usage, `missing or extra arguments: opf ${command} ${names}`);
  };
  // Validate the command line before dialing, so usage errors never wait on the network.
  switch (command) {
    case "plugins":
    case "watch":
      needArgs(0, "");
      break;
    case "describe":
      needArgs(1, "NAME");
      break;
    case "call":
      needArgs(2, "NAME SERVICE/METHOD");
      break;
    default:
      throw new CliError(ExitCode.usage, `unknown command ${JSON.stringify(command)}`);
  }
  const data = command === "call" ? parseData(values.data) : undefined;
  // With --proto, the request is checked before dialing; without, once the operator's descriptors are in.
  const localCodec =
    command === "call" && values.proto?.length
      ? loadMethodCodec(values.proto, values["import-path"] ?? [], args[1]!)
      : undefined;
  const localRequest = localCodec?.encodeRequest(data);
  const metadata = parseHeaders(values.header ?? []);
  const timeoutMs = values.timeout === undefined ? 30_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new CliError(
      ExitCode.usage,
      `--timeout must be a positive number of milliseconds, got ${values.timeout}`,
    );
  }

  const admin = connect(address);
  try {
    switch (command) {
      case "plugins": {
        const plugins = await admin.listPlugins();
        io.stdout.write(
          values.json ? `${JSON.stringify(plugins, null, 2)}\n` : formatPluginTable(plugins, Date.now()),
        );
        return ExitCode.ok;
      }
      case "describe": {
        const plugin = await admin.describePlugin(args[0]!);
        io.stdout.write(
          values.json ? `${JSON.stringify(plugin, null, 2)}\n` : formatPluginDescription(plugin, Date.now()),
        );
        return ExitCode.ok;
      }
      case "call": {
        const method = args[1]!.startsWith("/") ? args[1]! : `/${args[1]!}`;
        const codec: MethodCodec =
          localCodec ?? methodCodecFromDescriptors(await operatorDescriptors(admin, method), method);
        const replies = admin.callPlugin({
          plugin: args[0]!,
          method,
          request: localRequest ?? codec.encodeRequest(data),
          timeoutMs,
          metadata,
        });
        for await (const reply of replies)
          io.stdout.write(`${JSON.stringify(codec.decodeResponse(reply))}\n`);
        return ExitCode.ok;
      }
      default: {
        const signal = io.signal ?? new AbortController().signal;
        const subscribed = () => io.stderr.write(`opf: watching plugins at ${address}; Ctrl-C to stop\n`);
        for await (const event of admin.watch(signal, subscribed))
          io.stdout.write(formatEvent(event, new Date()));
        return ExitCode.ok;
      }
    }
  } finally {
    admin.close();
  }
}

/** The descriptors of the operator and its plugins; without them, the message types are unknown: a usage error naming --proto. */
async function operatorDescriptors(admin: AdminConnection, method: string): Promise<Buffer> {
  try {
    return await admin.fileDescriptorSet();
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.failed && /^NOT_FOUND: /.test(err.message)) {
      throw new CliError(
        ExitCode.usage,
        `the message types of ${method} are unknown: neither the operator nor a plugin announced descriptors (connectPlugin's fileDescriptorSet option), so pass its service's .proto file with --proto (and -I for the directories its imports live in)`,
      );
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      admin: { type: "string" },
      json: { type: "boolean" },
      data: { type: "string", short: "d" },
      proto: { type: "string", multiple: true },
      "import-path": { type: "string", short: "I", multiple: true },
      timeout: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

function parseData(data: string | undefined): unknown {
  if (data === undefined) return {};
  try {
    return JSON.parse(data);
  } catch (err) {
    throw new CliError(ExitCode.usage, `--data is not JSON: ${(err as Error).message}`);
  }
}

function parseHeaders(headers: string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const header of headers) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new CliError(ExitCode.usage, `-H ${JSON.stringify(header)} is not "key: value"`);
    metadata[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  return metadata;
}
