// The caller role: the operator (a plugin server) and the grpc-js clients of
// the baselines. Every measured run happens here; the parent only sequences.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createPluginServer, type PluginServer, quietLogger } from "@operator-plugin-framework/server";
import { LIMIT } from "./limits.js";
import { sequentialUntil } from "./loop.js";
import { observabilityOff, observabilityOn, type Sampling } from "./observability.js";
import { type MixedSpec, runScenario, type ScenarioSpec } from "./scenarios.js";
import { median, quantile } from "./stats.js";
import {
  callVariant,
  directVariant,
  floorVariant,
  handleVariant,
  type Variant,
  type VariantName,
} from "./variants.js";
import { cpuMicros, type Handlers } from "./worker-protocol.js";

/** One measured run of one variant, as the caller reports it. */
export interface Round {
  ops: number;
  elapsedMs: number;
  p50us: number | null;
  p99us: number | null;
  /** CPU time of the caller process during the run, µs. */
  cpuUs: number;
}

/** Arguments of `setup`: where the callee's services are, and the plugins' names. */
export interface SetupArgs {
  directTarget: string;
  tunnelPlugin: string;
  /** The plugin connected through the fake kube-rbac-proxy, if any. */
  proxyPlugin?: string;
  /** The plugin of the observed operator (metrics and tracing on, every trace recorded), if any. */
  observedPlugin?: string;
  /** The plugin of the sampled operator (metrics and tracing on, 10 % of traces recorded), if any. */
  sampledPlugin?: string;
}

/** The mixed-load result of one round, µs. */
export interface MixedRound {
  idleP50us: number;
  idleP99us: number;
  loadedP50us: number;
  loadedP99us: number;
  /** This (the operator's) process's event-loop delay p99 in each phase. */
  idleLoopP99us: number;
  loadedLoopP99us: number;
  loadedCalls: number;
  /** Transfers made (back to back, until as many loaded calls as idle ones) and their median duration. */
  transfers: number;
  transferMs: number;
}

export function createCaller(): Handlers {
  let operator: PluginServer | undefined;
  const observed = new Map<Sampling, PluginServer>();
  const running: Promise<void>[] = [];
  /** Starts an operator on an ephemeral loopback port; resolves with it and its target. */
  const start = async (extra: Partial<Parameters<typeof createPluginServer>[0]>) => {
    const server = createPluginServer({
      listen: "127.0.0.1:0",
      authenticator: "none",
      drainGraceMs: 1_000,
      logger: quietLogger,
      maxReceiveMessageSize: LIMIT,
      maxSendMessageSize: LIMIT,
      ...extra,
    });
    running.push(server.start());
    const [address] = await server.ready();
    return { server, target: `http://${address}` };
  };
  const variants = new Map<VariantName, Variant>();
  const variant = (name: VariantName) => {
    const v = variants.get(name);
    if (!v) throw new Error(`variant ${name} is not set up`);
    return v;
  };
  return {
    /** Starts the operator on an ephemeral loopback port; resolves with its target. */
    async startOperator(): Promise<string> {
      const started = await start({});
      operator = started.server;
      return started.target;
    },
    /** Starts another operator, with metrics and tracing on; resolves with its target. */
    async startObservedOperator(args?: { sampling?: Sampling }): Promise<string> {
      const sampling = args?.sampling ?? "all";
      const started = await start(observabilityOn(sampling));
      observed.set(sampling, started.server);
      return started.target;
    },
    /** Makes the variants; the plugins must be registered by now. */
    setup(args: SetupArgs): VariantName[] {
      if (!operator) throw new Error("setup before startOperator");
      variants.set("direct", directVariant(args.directTarget));
      variants.set("floor", floorVariant(args.directTarget));
      const tunnel = operator.registry.get(args.tunnelPlugin);
      variants.set("tunnel", handleVariant("tunnel", tunnel));
      variants.set("call", callVariant(tunnel));
      if (args.proxyPlugin)
        variants.set("proxy", handleVariant("proxy", operator.registry.get(args.proxyPlugin)));
      const all = observed.get("all");
      if (all && args.observedPlugin)
        variants.set("observed", handleVariant("observed", all.registry.get(args.observedPlugin)));
      const sampled = observed.get("sampled");
      if (sampled && args.sampledPlugin)
        variants.set("sampled", handleVariant("sampled", sampled.registry.get(args.sampledPlugin)));
      return [...variants.keys()];
    },
    /** One run of a scenario against a variant, with this process's CPU time over it. */
    async run(args: { spec: ScenarioSpec; variant: VariantName; warm?: boolean }): Promise<Round> {
      const v = variant(args.variant);
      const cpu0 = cpuMicros();
      const r = await runScenario(args.spec, v, args.warm);
      const cpuUs = cpuMicros() - cpu0;
      const has = r.latenciesUs.length > 0;
      return {
        ops: r.ops,
        elapsedMs: r.elapsedMs,
        p50us: has ? quantile(r.latenciesUs, 0.5) : null,
        p99us: has ? quantile(r.latenciesUs, 0.99) : null,
        cpuUs,
      };
    },
    /** 64 B unary calls one at a time, idle, then while a bulk transfer runs on the same channel or session. */
    async mixed(args: { spec: MixedSpec; variant: VariantName }): Promise<MixedRound> {
      const v = variant(args.variant);
      const { spec } = args;
      if (!v.transfer) throw new Error(`variant ${v.name} has no bulk transfer`);
      const call = v.unary(64, 64);
      // This process's event-loop delay in each phase: how much of a loaded
      // call's latency is the operator busy with the transfer's messages.
      let loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const idle = await sequentialUntil(call, undefined, spec.idleCount, spec.maxMs);
      loop.disable();
      const idleLoopP99us = loop.percentile(99) / 1000;
      loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      // Transfers back to back until as many loaded calls as idle ones: one
      // transfer may be over before a p99 means anything.
      const loaded: number[] = [];
      const transfers: number[] = [];
      const stopAt = performance.now() + spec.maxMs;
      while (loaded.length < idle.length && performance.now() < stopAt) {
        const start = performance.now();
        const transfer = v.transfer(spec.chunks, spec.chunkBytes).then(() => performance.now() - start);
        loaded.push(...(await sequentialUntil(call, transfer, Number.POSITIVE_INFINITY, spec.maxMs)));
        transfers.push(await transfer);
      }
      loop.disable();
      const transferMs = median(transfers);
      return {
        idleLoopP99us,
        loadedLoopP99us: loop.percentile(99) / 1000,
        idleP50us: quantile(idle, 0.5),
        idleP99us: quantile(idle, 0.99),
        loadedP50us: quantile(loaded, 0.5),
        loadedP99us: quantile(loaded, 0.99),
        loadedCalls: loaded.length,
        transfers: transfers.length,
        transferMs,
      };
    },
    async close(): Promise<void> {
      for (const v of variants.values()) v.close();
      variants.clear();
      await Promise.all([operator?.stop(), ...[...observed.values()].map((s) => s.stop())]);
      await Promise.allSettled(running);
      await observabilityOff();
    },
  };
}
