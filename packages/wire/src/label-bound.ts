/** The label value everything beyond a bound, or never announced, is counted under. */
export const OTHER = "other";

/**
 * Caps how many distinct values one label takes, so peers cannot grow the
 * number of time series without limit: the first `max` values are kept, any
 * later new one becomes `other`. Values once admitted stay admitted.
 */
export class LabelBound {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  value(candidate: string): string {
    if (this.seen.has(candidate)) return candidate;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(candidate);
    return candidate;
  }
}
