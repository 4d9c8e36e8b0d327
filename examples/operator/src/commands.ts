import { createInterface } from "node:readline";
import type { PluginRegistry } from "@operator-plugin-framework/registry";
import type { Logger } from "@operator-plugin-framework/server";
import { countGreetings, describeError, greet, greetAll } from "./greeter-calls.js";

/**
 * A command read from stdin, one JSON object per line. This is how the demo
 * (or a person at a terminal) asks for calls on demand; a real operator would
 * make them from its reconcile loop instead.
 */
export type Command =
  | { id?: string; op: "greet"; plugin: string; name: string }
  | { id?: string; op: "greet-all"; name: string }
  | { id?: string; op: "count"; plugin: string; name: string; count: number };

/** Runs commands from `input` until it ends or `signal` aborts; results go to the logger. */
export async function serveCommands(
  input: NodeJS.ReadableStream,
  registry: PluginRegistry,
  logger: Logger,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  signal.addEventListener("abort", () => lines.close(), { once: true });
  const running = new Set<Promise<void>>();
  for await (const line of lines) {
    if (!line.trim()) continue;
    const done = runCommand(line, registry, logger, timeoutMs).finally(() => running.delete(done));
    running.add(done);
  }
  await Promise.all(running);
}

async function runCommand(line: string, registry: PluginRegistry, logger: Logger, timeoutMs: number) {
  let command: Command;
  try {
    command = JSON.parse(line) as Command;
  } catch {
    logger.warn({ line }, "command is not JSON; ignored");
    return;
  }
  const { id } = command;
  try {
    switch (command.op) {
      case "greet": {
        const reply = await greet(registry, command.plugin, command.name, timeoutMs);
        logger.info({ id, method: "SayHello", ...reply }, "call answered");
        return;
      }
      case "greet-all": {
        for (const { plugin, result } of await greetAll(registry, command.name, timeoutMs)) {
          if (result.status === "fulfilled")
            logger.info({ id, method: "SayHello", ...result.value }, "call answered");
          else
            logger.warn({ id, method: "SayHello", plugin, ...describeError(result.reason) }, "call failed");
        }
        logger.info({ id }, "command done");
        return;
      }
      case "count": {
        const replies = await countGreetings(
          registry,
          command.plugin,
          command.name,
          command.count,
          timeoutMs,
        );
        logger.info(
          { id, method: "CountGreetings", plugin: command.plugin, messages: replies.map((r) => r.message) },
          "call answered",
        );
        return;
      }
      default:
        logger.warn({ id, op: (command as { op?: unknown }).op }, "unknown command; ignored");
    }
  } catch (err) {
    const plugin = "plugin" in command ? command.plugin : undefined;
    logger.warn({ id, plugin, ...describeError(err) }, "call failed");
  }
}
