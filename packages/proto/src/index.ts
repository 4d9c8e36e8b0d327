/**
 * The `pluginframework.v1` wire protocol: generated messages and the
 * PluginFrameworkService definition. Frame helpers shared by the operator and
 * plugin sides live in `@operator-plugin-framework/proto/wire`.
 */
export * from "./gen/pluginframework/v1/stream.js";
