/**
 * The logging the framework does, through an interface pino satisfies
 * (`logger: pino()` works as it is). Tokens and payloads are never logged.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

/** A logger that drops everything: quiet is an explicit choice. */
export const quietLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The default logger: warnings and errors as JSON lines on stderr, in pino's
 * shape (`level` as pino's number, `time` in ms, `msg`, then the fields), so
 * the same log pipeline reads both. Debug and info are dropped; pass a pino
 * logger to see them.
 */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (obj, msg) => writeLine(40, obj, msg),
  error: (obj, msg) => writeLine(50, obj, msg),
};

function writeLine(level: number, obj: object, msg: string | undefined): void {
  const fields = obj instanceof Error ? { err: serializeError(obj) } : serializeFields(obj);
  let line: string;
  try {
    line = JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...fields });
  } catch {
    // A cyclic or BigInt field must not turn a log call into a crash.
    line = JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, fields: "(not serializable)" });
  }
  process.stderr.write(`${line}\n`);
}

function serializeFields(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj))
    out[key] = value instanceof Error ? serializeError(value) : value;
  return out;
}

function serializeError(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return { type: err.name, message: err.message, ...(code === undefined ? {} : { code }) };
}
