import { status } from "@grpc/grpc-js";
import type { PluginSession } from "@operator-plugin-framework/registry";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** How a method announced by a plugin is called. */
export interface AnnouncedMethod {
  path: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

/**
 * Finds `path` ("/pkg.Service/Method") among the services the plugin's
 * sessions announced. The admin service calls only announced methods: it
 * cannot know a method's kind otherwise, and an operator's on-call engineer
 * is better served by the list of what exists than by UNIMPLEMENTED.
 */
export function findAnnouncedMethod(
  plugin: string,
  sessions: readonly PluginSession[],
  path: string,
): AnnouncedMethod {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `method ${JSON.stringify(path)} is not a full method path; use "/package.Service/Method" or "package.Service/Method"`,
    );
  }
  const [, serviceName, methodName] = match;
  const known: string[] = [];
  for (const session of sessions) {
    for (const service of session.services) {
      for (const method of service.methods) {
        if (service.name === serviceName && method.name === methodName) {
          return { path, clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming };
        }
        known.push(`${service.name}/${method.name}`);
      }
    }
  }
  const announced = [...new Set(known)].sort();
  throw new PluginFrameworkError(
    status.UNIMPLEMENTED,
    `plugin "${plugin}" does not announce ${serviceName}/${methodName}; it announces: ${announced.join(", ") || "(nothing)"}`,
  );
}
