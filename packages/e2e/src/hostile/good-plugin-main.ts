// The well-behaved plugin of the hostile-input tests, in its own process so
// that the attackers' load in the test process cannot slow it down.
// Argument: JSON { target, name, token?, headers? }. Prints "registered" once
// registered; SIGTERM closes it gracefully.
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/wire";
import { createGreeter } from "../greeter-impl.js";

const options = JSON.parse(process.argv[2] ?? "{}") as {
  target: string;
  name: string;
  token?: string;
  headers?: Record<string, string>;
};
const connection = connectPlugin({
  name: options.name,
  target: options.target,
  services: [[GreeterServiceService, createGreeter(options.name).impl]],
  logger: quietLogger,
  ...(options.token === undefined ? {} : { token: options.token }),
  ...(options.headers === undefined ? {} : { headers: options.headers }),
});
// The test holds our stdin open; its end means the test process is gone
// without closing us, and a plugin left running would outlive the test run.
process.stdin.once("end", () => process.exit(1));
process.stdin.resume();
process.once("SIGTERM", () => {
  void connection.close().then(() => process.exit(0));
});
await connection.registered();
process.stdout.write("registered\n");
