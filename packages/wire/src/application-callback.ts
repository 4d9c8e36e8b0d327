/**
 * Runs a callback that belongs to the application: a grpc-js listener, and
 * through it the operator's or plugin's own callback. If it throws, the
 * exception is rethrown on the next tick, where it surfaces as an uncaught
 * exception exactly as it does with grpc-js, and the caller goes on with its
 * own bookkeeping. The framework neither swallows the error nor lets it end
 * the session or other calls.
 */
export function runApplicationCallback(callback: () => void): void {
  try {
    callback();
  } catch (err) {
    process.nextTick(() => {
      throw err;
    });
  }
}
