import type { Logger } from "@operator-plugin-framework/server";

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A pino-shaped logger writing one JSON object per line to stdout. The example
 * avoids a pino dependency; a real plugin would pass `pino()` instead.
 */
export function createJsonLogger(base: object, minLevel: Level = "info"): Logger {
  const write = (level: Level) => (obj: object, msg?: string) => {
    if (order[level] < order[minLevel]) return;
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...base, ...obj, msg })}\n`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
