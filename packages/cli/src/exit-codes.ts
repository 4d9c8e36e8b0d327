/** Exit codes of `opf`, for scripts. */
export const ExitCode = {
  ok: 0,
  /** The admin service answered with an error: a plugin not found, a failed call. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** The admin service could not be reached. */
  unreachable: 3,
} as const;

/** An error that ends the CLI with a given exit code and message. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}
