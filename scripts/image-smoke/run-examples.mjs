// Starts the staged example operator and one staged example plugin with plain
// `node` (no tsx, no workspace), waits until the plugin is registered and makes
// one call through it. Exits 0 when the call is answered.
//   node run-examples.mjs OPERATOR_DIR PLUGIN_DIR
//
// What the examples' command lines and log lines look like lives in `example`
// below: when the examples change, this is the part to adjust.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [operatorDir, pluginDir] = process.argv.slice(2);
const pluginName = "image-smoke";

const example = {
  operatorArgs: ["--listen", "127.0.0.1:0", "--call-interval-ms", "0", "--commands", "--exit-with-parent"],
  /** The log line with the bound addresses; returns the plugin's target. */
  listening: (line) => line.msg === "operator listening" && `http://${line.addresses[0]}`,
  pluginArgs: (target) => ["--name", pluginName, "--target", target, "--exit-with-parent"],
  registered: (line) => line.msg === "registry: registered" && line.plugin === pluginName,
  /** Written to the operator's stdin once the plugin is registered. */
  call: { op: "greet", plugin: pluginName, name: "image" },
  answered: (line) => line.msg === "call answered" && line.message === "hello image",
  failed: (line) => line.msg === "call failed" || line.msg === "operator failed",
};

const timeoutMs = 60_000;
const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
const children = [];

function start(name, dir, args) {
  // cwd is the staged directory, outside the repository: nothing resolves from the workspace.
  const child = spawn(process.execPath, [join(dir, "dist", "main.js"), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, NODE_OPTIONS: "" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) fail(`${name} exited early with ${code ?? signal}`);
  });
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (text) => {
    console.log(`[${name}] ${text}`);
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    onLine(name, line);
  });
  return child;
}

let stopping = false;
let operator;
function onLine(name, line) {
  if (name !== "operator") return;
  const target = example.listening(line);
  if (target) start("plugin", pluginDir, example.pluginArgs(target));
  else if (example.registered(line)) operator.stdin.write(`${JSON.stringify(example.call)}\n`);
  else if (example.answered(line)) void finish();
  else if (example.failed(line)) fail(`the operator reported: ${JSON.stringify(line)}`);
}

async function finish() {
  stopping = true;
  clearTimeout(timer);
  const exits = children.map((child) => once(child, "exit"));
  for (const child of children.reverse()) child.kill("SIGTERM");
  const codes = await Promise.all(exits);
  const unclean = codes.filter(([code]) => code !== 0);
  if (unclean.length > 0) fail(`after SIGTERM the processes exited with ${JSON.stringify(codes)}`);
  console.log("image smoke: the staged operator called the staged plugin");
}

function fail(message) {
  stopping = true;
  console.error(`image smoke: FAILED: ${message}`);
  for (const child of children) child.kill("SIGKILL");
  process.exit(1);
}

operator = start("operator", operatorDir, example.operatorArgs);
