/**
 * Waits for `promise`, but at most `timeoutMs`. Resolves `true` when the
 * promise settled first (a rejection counts as settled, and is not rethrown:
 * callers use this to bound waits on shutdown, where the outcome is read
 * elsewhere) and `false` when the time ran out. The timer is always cleared,
 * so nothing keeps the process alive afterwards.
 */
export async function raceTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, timeoutMs), false);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
