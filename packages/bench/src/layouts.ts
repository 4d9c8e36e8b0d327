// Brings up the processes of one layout and connects caller, callee and proxy.
import type { TestCertificates } from "@operator-plugin-framework/testkit/tls";
import type { Layout } from "./measure.js";
import type { VariantName } from "./variants.js";
import { startWorker, stopAll, type Worker } from "./worker-pool.js";

/** A started layout: its workers, the variants the caller could set up, and how to stop it all. */
export interface RunningLayout extends Layout {
  variants: VariantName[];
  /** Why the proxy variant is missing, if it is. */
  proxyError?: string;
  stop(): Promise<void>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;

/**
 * separate-processes: caller (operator and grpc-js clients), callee (grpc-js
 * server and plugins) and the fake kube-rbac-proxy each in a process of
 * their own. one-process: all three roles in one process.
 */
export async function startLayout(
  name: Layout["name"],
  certs: Promise<TestCertificates>,
  nodeFlags: (label: string) => string[],
): Promise<RunningLayout> {
  const workers: Worker[] = [];
  const start = async (label: string, roles: Parameters<typeof startWorker>[1]) => {
    const w = await startWorker(label, roles, { nodeFlags: nodeFlags(label) });
    workers.push(w);
    return w;
  };
  try {
    let caller: Worker;
    let callee: Worker | undefined;
    let proxy: Worker | undefined;
    if (name === "one-process") {
      caller = await start("one-process", ["caller", "callee", "proxy"]);
    } else {
      [caller, callee, proxy] = await Promise.all([
        start("caller", ["caller"]),
        start("callee", ["callee"]),
        start("proxy", ["proxy"]),
      ]);
    }
    const calleeHost = callee ?? caller;
    const operatorTarget = await caller.call<string>("startOperator");
    const directTarget = await calleeHost.call<string>("startServer");
    await calleeHost.call("connectPlugin", { name: "bench", target: operatorTarget }, 30_000);
    for (const [name, sampling] of [
      ["bench-observed", "all"],
      ["bench-sampled", "sampled"],
    ] as const) {
      const target = await caller.call<string>("startObservedOperator", { sampling });
      await calleeHost.call("connectPlugin", { name, target, observed: sampling }, 30_000);
    }
    let proxyError: string | undefined;
    try {
      const { server, ca } = await certs;
      const url = await (proxy ?? caller).call<string>("startProxy", {
        upstream: operatorTarget,
        tls: server,
      });
      await calleeHost.call(
        "connectPlugin",
        { name: "bench-proxy", target: url, tls: { ca: ca.cert }, token: "bench-token" },
        30_000,
      );
    } catch (err) {
      proxyError = message(err);
    }
    const variants = await caller.call<VariantName[]>("setup", {
      directTarget,
      tunnelPlugin: "bench",
      observedPlugin: "bench-observed",
      sampledPlugin: "bench-sampled",
      ...(proxyError ? {} : { proxyPlugin: "bench-proxy" }),
    });
    return {
      name,
      caller,
      callee,
      proxy,
      variants,
      ...(proxyError ? { proxyError } : {}),
      // The caller first: its operator drains before the plugins go, as in a rollout.
      stop: async () => {
        await stopAll([caller]);
        await stopAll(workers);
      },
    };
  } catch (err) {
    await stopAll(workers);
    throw err;
  }
}
