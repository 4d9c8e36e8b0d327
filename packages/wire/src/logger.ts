/**
 * The logging the framework does, through an interface pino satisfies. The
 * default is quiet. Tokens and payloads are never logged.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

/** A logger that drops everything. */
export const quietLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
