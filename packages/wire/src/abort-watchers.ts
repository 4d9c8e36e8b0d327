// One listener per signal, however many calls share it (a reconcile-wide
// signal, say): a listener per call would trip Node's max-listeners warning.
// The listener goes away with the last call that watches the signal, so a
// long-lived signal (a process-wide one) keeps none once its calls end.
const watchers = new WeakMap<AbortSignal, { cancels: Set<() => void>; fire: () => void }>();

/**
 * Runs `cancel` when `signal` aborts, until the returned function is called.
 * Without a signal, does nothing.
 */
export function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => {};
  let entry = watchers.get(signal);
  if (!entry) {
    const cancels = new Set<() => void>();
    const fire = () => {
      watchers.delete(signal);
      for (const fn of [...cancels]) fn();
      cancels.clear();
    };
    entry = { cancels, fire };
    watchers.set(signal, entry);
    signal.addEventListener("abort", fire, { once: true });
  }
  const { cancels, fire } = entry;
  cancels.add(cancel);
  return () => {
    if (!cancels.delete(cancel) || cancels.size > 0) return;
    signal.removeEventListener("abort", fire);
    watchers.delete(signal);
  };
}
