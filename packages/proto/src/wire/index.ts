export { isStatusError, PluginFrameworkError } from "./errors.js";
