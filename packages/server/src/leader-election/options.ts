import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { status } from "@grpc/grpc-js";
import type { KubeConfig } from "@kubernetes/client-node";
import { type Logger, PluginFrameworkError, quietLogger } from "@operator-plugin-framework/wire";

/** Options of `createLeaderElector`. */
export interface LeaderElectorOptions {
  /** How to reach the API server, e.g. `kc.loadFromDefault()`. Required. */
  kubeConfig: KubeConfig;
  /** The namespace of the Lease. Required. */
  namespace: string;
  /** The name of the Lease (`coordination.k8s.io/v1`), shared by every replica. Required. */
  leaseName: string;
  /**
   * This replica's identity, written as the Lease's `holderIdentity`; unique
   * per replica. Use the pod name. Default: the host name plus a random suffix.
   */
  identity?: string;
  /**
   * How long other replicas wait, from when they last saw the Lease change,
   * before taking it over from a holder that stopped renewing. Written to
   * the Lease rounded up to whole seconds (the unit of `leaseDurationSeconds`).
   * Default: 15000.
   */
  leaseDurationMs?: number;
  /**
   * How long the leader keeps trying to renew before it gives up leadership.
   * Must be less than `leaseDurationMs`, so the leader stops before anyone
   * else can take over. Default: 10000.
   */
  renewDeadlineMs?: number;
  /**
   * How often replicas try to acquire, and the leader renews. A released
   * Lease is taken over within this period. Default: 2000.
   */
  retryPeriodMs?: number;
  /**
   * Called when this replica becomes the leader. `signal` aborts when
   * leadership ends (lost, or `start`'s signal aborted); the work must stop
   * then. A returned promise is only awaited for its errors, which are logged.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /**
   * Called when leadership ends, right after the signal aborts. On a
   * graceful stop the Lease is released once a returned promise settles, so
   * it may wait for the work to wind down. Default: nothing.
   */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called when the observed holder changes to another non-empty identity (this one included). */
  onNewLeader?: (identity: string) => void;
  /** Default: quiet. */
  logger?: Logger;
}

export interface ResolvedOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  onNewLeader: (identity: string) => void;
  logger: Logger;
}

function invalid(message: string): PluginFrameworkError {
  return new PluginFrameworkError(status.INVALID_ARGUMENT, `leader election: ${message}`);
}

/** Applies defaults and checks the timing relations client-go checks. */
export function resolveOptions(options: LeaderElectorOptions): ResolvedOptions {
  const leaseDurationMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  for (const [name, value] of Object.entries({ leaseDurationMs, renewDeadlineMs, retryPeriodMs })) {
    if (!Number.isFinite(value) || value <= 0)
      throw invalid(`${name} must be a positive number, got ${value}`);
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw invalid(
      `leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs}), or a replica could take over while the leader still acts`,
    );
  }
  if (renewDeadlineMs <= retryPeriodMs) {
    throw invalid(
      `renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs (${retryPeriodMs}), so the leader gets more than one try to renew`,
    );
  }
  if (!options.namespace || !options.leaseName) throw invalid("namespace and leaseName are required");
  const identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  if (identity === "") throw invalid("identity must not be empty (an empty holder means a released Lease)");
  return {
    kubeConfig: options.kubeConfig,
    namespace: options.namespace,
    leaseName: options.leaseName,
    identity,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    onStartedLeading: options.onStartedLeading,
    onStoppedLeading: options.onStoppedLeading ?? (() => {}),
    onNewLeader: options.onNewLeader ?? (() => {}),
    logger: options.logger ?? quietLogger,
  };
}
