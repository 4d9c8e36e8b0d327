import { status } from "@grpc/grpc-js";
import type { V1Lease } from "@kubernetes/client-node";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { delay, withDeadline } from "./delay.js";
import { createLeaseLock } from "./lease-lock.js";
import { heldSpec, type LeaseRecord, readLeaseRecord, releasedSpec } from "./lease-record.js";
import { type LeaderElectorOptions, resolveOptions } from "./options.js";

/** A replica's side of Lease leader election. */
export interface LeaderElector {
  /** This replica's `holderIdentity`. */
  readonly identity: string;
  /**
   * Contends for the Lease until `signal` aborts: acquires it, leads while it
   * renews it, contends again after losing it. Resolves once stopped; a
   * leader first ends its term and releases the Lease. Call it once.
   */
  start(signal?: AbortSignal): Promise<void>;
  /** Whether this replica leads now. */
  isLeader(): boolean;
  /** The holder as last observed, undefined when the Lease is free or not read yet. */
  leader(): string | undefined;
}

/** The outcome of one try: acquired (with when the write was sent), or who holds it. */
type Attempt = { acquired: true; sentAt: number } | { acquired: false; holder: string };

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Creates a leader elector on a `coordination.k8s.io/v1` Lease, with the
 * semantics of client-go's `leaderelection`: every replica tries every
 * `retryPeriodMs`; a Lease held by another is taken over only once it has not
 * changed for its `leaseDurationSeconds`, measured on this process's own
 * monotonic clock from when it saw the change (so clock skew between nodes
 * does not matter); every write is guarded by the `resourceVersion` read, and
 * a 409 means re-read, never overwrite. A leader that cannot renew within
 * `renewDeadlineMs` of its last successful renewal aborts its signal, before
 * anyone else can take over. A graceful stop releases the Lease.
 *
 * @example
 * const elector = createLeaderElector({
 *   kubeConfig, namespace: "opf-system", leaseName: "example-operator", identity: process.env.POD_NAME,
 *   onStartedLeading: (signal) => runControllers(signal),
 * });
 * await elector.start(shutdownSignal);
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const config = resolveOptions(options);
  const { identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs, logger } = config;
  const lock = createLeaseLock(config.kubeConfig, config.namespace, config.leaseName);
  const fields = { lease: `${config.namespace}/${config.leaseName}`, identity };
  let observed: { record: LeaseRecord; at: number } | undefined;
  let reportedLeader: string | undefined;
  let leading = false;
  let started = false;

  function observe(lease: V1Lease): LeaseRecord {
    const record = readLeaseRecord(lease);
    // Only a change restarts the clock: an unchanged record ages towards expiry.
    if (observed?.record.raw !== record.raw) observed = { record, at: performance.now() };
    if (record.holder !== "" && record.holder !== reportedLeader) {
      reportedLeader = record.holder;
      try {
        config.onNewLeader(record.holder);
      } catch (err) {
        logger.error({ ...fields, err: errorText(err) }, "leader election: onNewLeader threw");
      }
    }
    return record;
  }

  async function tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const current = await lock.get(signal);
    if (current === undefined) {
      const sentAt = performance.now();
      const spec = heldSpec({ holder: identity, leaseDurationMs, transitions: 0, acquireTime: undefined });
      const created = await lock.create(spec, signal);
      if (created === undefined) return { acquired: false, holder: "" };
      observe(created);
      return { acquired: true, sentAt };
    }
    const record = observe(current);
    const mine = record.holder === identity;
    if (record.holder !== "" && !mine) {
      // A malformed duration does not make the Lease free: it is held for our own duration.
      const duration = record.durationMs ?? leaseDurationMs;
      if (performance.now() < observed!.at + duration) return { acquired: false, holder: record.holder };
    }
    const sentAt = performance.now();
    const spec = heldSpec({
      holder: identity,
      leaseDurationMs,
      transitions: mine ? record.transitions : record.transitions + 1,
      acquireTime: mine ? record.acquireTime : undefined,
    });
    const updated = await lock.update(current, spec, signal);
    if (updated === undefined) return { acquired: false, holder: record.holder };
    observe(updated);
    return { acquired: true, sentAt };
  }

  /** Tries every retry period until acquired (resolves when the write was sent) or stopped (undefined). */
  async function acquire(stop: AbortSignal): Promise<number | undefined> {
    while (!stop.aborted) {
      try {
        // A hung request must not stall contention: each try gets renewDeadlineMs.
        const attempt = await withDeadline(stop, renewDeadlineMs, tryAcquireOrRenew);
        if (attempt.acquired) return attempt.sentAt;
      } catch (err) {
        if (!stop.aborted) {
          logger.warn(
            { ...fields, err: errorText(err) },
            "leader election: could not read or write the Lease",
          );
        }
      }
      // Jittered below the period, so replicas spread out yet a released Lease is taken within it.
      await delay(retryPeriodMs * (0.8 + Math.random() * 0.2), stop);
    }
    return undefined;
  }

  async function release(): Promise<void> {
    try {
      await withDeadline(new AbortController().signal, renewDeadlineMs, async (signal) => {
        const current = await lock.get(signal);
        if (current === undefined) return;
        const record = readLeaseRecord(current);
        if (record.holder !== identity) return;
        if ((await lock.update(current, releasedSpec(record.transitions), signal)) !== undefined) {
          logger.info(fields, "leader election: released the Lease");
        }
      });
    } catch (err) {
      logger.warn(
        { ...fields, err: errorText(err) },
        "leader election: could not release the Lease; another replica takes over when it expires",
      );
    }
  }

  /** One term: from acquisition until the deadline passes, another holder shows up, or stop. */
  async function lead(acquiredSentAt: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return release();
    const term = new AbortController();
    let reason = "";
    let deadline: NodeJS.Timeout | undefined;
    const end = (why: string) => {
      if (term.signal.aborted) return;
      reason = why;
      leading = false;
      clearTimeout(deadline);
      term.abort(new PluginFrameworkError(status.UNAVAILABLE, `leadership ended: ${why}`));
    };
    // Measured from when the last successful write was sent: it landed no earlier, so others
    // saw it no earlier, and wait leaseDuration (> renewDeadline) from then.
    const arm = (sentAt: number) => {
      clearTimeout(deadline);
      deadline = setTimeout(
        () => end(`not renewed within renewDeadlineMs (${renewDeadlineMs} ms)`),
        Math.max(0, sentAt + renewDeadlineMs - performance.now()),
      );
    };
    const onStop = () => end("stopping");
    arm(acquiredSentAt);
    leading = true;
    stop.addEventListener("abort", onStop, { once: true });
    logger.info(fields, "leader election: started leading");
    runLeaderWork(term.signal);
    await renewLoop(term.signal, arm, end);
    stop.removeEventListener("abort", onStop);
    logger.info({ ...fields, reason }, "leader election: stopped leading");
    try {
      await config.onStoppedLeading();
    } catch (err) {
      logger.error({ ...fields, err: errorText(err) }, "leader election: onStoppedLeading failed");
    }
    if (stop.aborted) await release();
  }

  /** Calls onStartedLeading without waiting: it runs for the whole term, while we renew. */
  function runLeaderWork(signal: AbortSignal): void {
    let work: Promise<void>;
    try {
      work = Promise.resolve(config.onStartedLeading(signal));
    } catch (err) {
      work = Promise.reject(err);
    }
    work.catch((err: unknown) => {
      logger.error({ ...fields, err: errorText(err) }, "leader election: onStartedLeading failed");
    });
  }

  /** Renews every retry period until the term ends; returns once no request is in flight. */
  async function renewLoop(term: AbortSignal, arm: (sentAt: number) => void, end: (why: string) => void) {
    while (!term.aborted) {
      await delay(retryPeriodMs, term);
      if (term.aborted) return;
      try {
        const attempt = await tryAcquireOrRenew(term);
        if (term.aborted) return;
        if (attempt.acquired) arm(attempt.sentAt);
        else if (attempt.holder !== "" && attempt.holder !== identity)
          end(`the Lease is held by ${attempt.holder}`);
      } catch (err) {
        if (!term.aborted) {
          logger.warn(
            { ...fields, err: errorText(err) },
            "leader election: renewal failed; retrying until the deadline",
          );
        }
      }
    }
  }

  return {
    identity,
    async start(signal) {
      if (started) {
        throw new PluginFrameworkError(
          status.FAILED_PRECONDITION,
          "leader elector already started; create one per start",
        );
      }
      started = true;
      const stop = signal ?? new AbortController().signal;
      while (!stop.aborted) {
        const sentAt = await acquire(stop);
        if (sentAt === undefined) break;
        await lead(sentAt, stop);
      }
    },
    isLeader: () => leading,
    leader: () => (observed?.record.holder ? observed.record.holder : undefined),
  };
}
