// Entry of every worker process: `worker.ts <role>...`, forked by worker-pool.ts.
// Serves the roles' handlers over the IPC channel and exits as soon as the
// parent goes away, so no worker outlives a crashed or interrupted run.
import {
  cpuMicros,
  type Handlers,
  READY,
  type Reply,
  type Request,
  type RoleName,
} from "./worker-protocol.js";

const roles: Record<RoleName, () => Promise<Handlers>> = {
  caller: async () => (await import("./caller.js")).createCaller(),
  callee: async () => (await import("./callee.js")).createCallee(),
  proxy: async () => (await import("./proxy-role.js")).createProxyRole(),
  "scale-operator": async () => (await import("./scale-operator.js")).createScaleOperator(),
  "plugin-host": async () => (await import("./plugin-host.js")).createPluginHost(),
};

// The IPC channel closes when the parent exits, however it exits.
process.on("disconnect", () => process.exit(0));

const names = process.argv.slice(2) as RoleName[];
const loaded = await Promise.all(names.map((name) => roles[name]()));
const closes = loaded.flatMap((h) => (h.close ? [h.close] : []));
const handlers: Handlers = Object.assign({}, ...loaded, {
  cpu: () => cpuMicros(),
  // In reverse: a caller's operator goes before the callee's plugins, as a stop would in production.
  close: async () => {
    for (const close of closes.reverse()) await close({} as never);
  },
});

const reply = (r: Reply) => {
  if (process.connected) process.send?.(r);
};

process.on("message", async (request: Request) => {
  try {
    const handler = handlers[request.method];
    if (!handler) throw new Error(`no method "${request.method}" in roles ${names.join(", ")}`);
    reply({ id: request.id, value: await handler(request.args as never) });
  } catch (err) {
    reply({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
});

reply(READY);
