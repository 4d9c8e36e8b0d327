import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { OperatorProcess } from "./operator-process.js";

/** A well-behaved plugin process; see {@link startGoodPlugin}. */
export interface GoodPlugin {
  /** Closes the plugin gracefully (SIGTERM), or kills it after 5 s. */
  close(): Promise<void>;
}

const main = fileURLToPath(new URL("./good-plugin-main.ts", import.meta.url));

/**
 * Starts a well-behaved greeter plugin in its own process and resolves once
 * the operator can call it. The operator's calls to it during an attack
 * (`operator.startCalls(name)`) are the "other plugins keep being served"
 * check; its own process keeps the attackers' load in the test process from
 * slowing it down.
 */
export async function startGoodPlugin(
  operator: OperatorProcess,
  options: { name: string; token?: string; headers?: Record<string, string> },
): Promise<GoodPlugin> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=opf-source",
      "--import",
      "tsx",
      main,
      JSON.stringify({ target: operator.target, ...options }),
    ],
    // stdin stays open while this process lives: the plugin exits when it ends.
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = once(child, "exit");
  let closed: Promise<void> | undefined;
  const plugin: GoodPlugin = {
    close() {
      closed ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.kill("SIGTERM");
        await exited;
        clearTimeout(killer);
      })();
      return closed;
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let output = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("registered")) resolve();
      });
      child.once("exit", (code) =>
        reject(new Error(`plugin "${options.name}" exited (${code}) before registering`)),
      );
    });
    if (!(await operator.waitRegistered(options.name))) {
      throw new Error(`the operator never saw plugin "${options.name}" register`);
    }
  } catch (err) {
    await plugin.close();
    throw err;
  }
  return plugin;
}
