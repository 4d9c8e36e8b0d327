export { type AdminConnection, connectAdmin } from "./admin-connection.js";
export { type CliIo, DEFAULT_ADMIN_ADDRESS, runCli, USAGE } from "./cli.js";
export { CliError, ExitCode } from "./exit-codes.js";
