/**
 * Ends this child process when the test process that forked it goes away
 * without stopping it (a test worker that crashed or was killed). Without it
 * the child outlives the run: an operator child kept calling its plugin for
 * minutes, using CPU and holding the test's stdout and stderr open, so the
 * test runner could not exit. Call the returned function just before
 * disconnecting on purpose.
 */
export function exitWithParent(): () => void {
  let leaving = false;
  process.once("disconnect", () => {
    if (!leaving) process.exit(1);
  });
  return () => {
    leaving = true;
  };
}
