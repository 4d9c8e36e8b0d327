/**
 * True for a stream id the plugin opens at revision 2 (even, never 0). At
 * that revision the operator opens its calls on odd ids and the plugin on
 * even ones, so the parity of an id tells who opened the stream.
 */
export function isPluginOpenedStream(streamId: number): boolean {
  return streamId !== 0 && streamId % 2 === 0;
}
