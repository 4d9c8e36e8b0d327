/**
 * The `pluginframework.v1` wire protocol: generated messages and the
 * PluginFrameworkService definition. The runtime that speaks it is in
 * `@operator-plugin-framework/wire`, internal to server and client.
 */
export * from "./gen/pluginframework/v1/stream.js";
