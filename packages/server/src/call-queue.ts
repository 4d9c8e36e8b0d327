/** The RESOURCE_EXHAUSTED message for a call that found a session's queue full. */
export function queueFullMessage(plugin: string, open: number, bound: number): string {
  return (
    `plugin "${plugin}" session has ${open} calls open and ${bound} waiting, the bound set by ` +
    `the plugin server's maxQueuedCalls option: retry later, or raise maxQueuedCalls or maxConcurrentStreams`
  );
}
