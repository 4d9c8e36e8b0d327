import { status } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import type { PluginRegistry } from "@operator-plugin-framework/registry";

/** One typed answer, and which plugin instance produced it. */
export interface Greeting {
  plugin: string;
  message: string;
  servedBy: string;
}

/**
 * A unary call through the plugin's stream, promise style. `registry.get`
 * throws NOT_FOUND (listing the registered names) for an unknown plugin.
 */
export async function greet(
  registry: PluginRegistry,
  plugin: string,
  name: string,
  timeoutMs: number,
): Promise<Greeting> {
  const reply = await registry
    .get(plugin)
    .call(GreeterServiceService.sayHello, { name, delayMs: 0 }, { timeoutMs });
  return { plugin, message: reply.message, servedBy: reply.servedBy };
}

/** Greets through every registered plugin at once; a failing plugin does not hide the others. */
export async function greetAll(
  registry: PluginRegistry,
  name: string,
  timeoutMs: number,
): Promise<{ plugin: string; result: PromiseSettledResult<Greeting> }[]> {
  const plugins = registry.names();
  const results = await Promise.allSettled(plugins.map((plugin) => greet(registry, plugin, name, timeoutMs)));
  return plugins.map((plugin, i) => ({ plugin, result: results[i]! }));
}

/**
 * A server-streaming call with the generated grpc-js client class, the same
 * one an operator would use for a direct connection.
 */
export async function countGreetings(
  registry: PluginRegistry,
  plugin: string,
  name: string,
  count: number,
  timeoutMs: number,
): Promise<Greeting[]> {
  const client = registry.get(plugin).client(GreeterServiceClient);
  try {
    const stream = client.countGreetings({ name, count }, { deadline: Date.now() + timeoutMs });
    const greetings: Greeting[] = [];
    for await (const reply of stream) {
      greetings.push({ plugin, message: reply.message, servedBy: reply.servedBy });
    }
    return greetings;
  } finally {
    client.close();
  }
}

/** The loggable shape of a failed call: gRPC code name and details, never payloads. */
export function describeError(err: unknown): { code: string; details: string } {
  const { code, details, message } = err as { code?: number; details?: string; message?: string };
  const name = typeof code === "number" ? (status[code] ?? String(code)) : "UNKNOWN";
  return { code: name, details: details ?? message ?? String(err) };
}
