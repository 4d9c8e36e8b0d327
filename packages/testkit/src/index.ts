export type { PluginConnection } from "@operator-plugin-framework/client";
export { startTestPlugin, startTestServer, type TestServer } from "./servers.js";
