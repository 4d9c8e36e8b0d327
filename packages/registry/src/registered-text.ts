import { isSemver, labelsText, type SessionFilter } from "./selector.js";
import type { PluginSession } from "./session.js";

/** How many distinct entries an error lists, so it stays short with thousands of sessions. */
export const MAX_LISTED = 10;
const MAX_SERVICES_LISTED = 3;
const MAX_LABELS_LISTED = 4;
const MAX_VERSION_CHARS = 40;

export interface RegisteredTextOptions {
  /** Sessions that explain the miss (same name, or same service) come first. */
  relevant: (session: PluginSession) => boolean;
  /** What was asked for: says whether versions that are not semver need a note. */
  filter: SessionFilter;
  /** List each entry's announced services. */
  services: boolean;
}

/**
 * What is registered, for an error message: `aws@1.4.0 {region=eu}
 * (dns.v1.DnsProvider) ×2, gcp@2.1.0 (...)`. Identical replicas are counted
 * once; the most relevant plugins come first, then by name and version. At
 * most {@link MAX_LISTED} entries are formatted and shown, followed by how
 * many sessions were left out, so the cost stays small with thousands.
 */
export function registeredText(sessions: readonly PluginSession[], options: RegisteredTextOptions): string {
  if (sessions.length === 0) return "(none)";
  const sorted = sessions
    .map((session) => ({ session, relevant: options.relevant(session) }))
    .sort(
      (a, b) =>
        Number(b.relevant) - Number(a.relevant) ||
        compare(a.session.name, b.session.name) ||
        compare(a.session.version, b.session.version),
    );
  const counts = new Map<string, number>();
  let shown = 0;
  let lastName = "";
  for (const { session } of sorted) {
    // Finish the replicas of the last plugin listed, so that its counts are right.
    if (counts.size >= MAX_LISTED && session.name !== lastName) break;
    const text = entryText(session, options);
    const count = counts.get(text);
    if (count === undefined && counts.size >= MAX_LISTED) break;
    counts.set(text, (count ?? 0) + 1);
    lastName = session.name;
    shown++;
  }
  const listed = [...counts].map(([text, count]) => (count > 1 ? `${text} ×${count}` : text));
  const left = sessions.length - shown;
  if (left > 0) listed.push(`and ${left} more session${left === 1 ? "" : "s"}`);
  return listed.join(", ");
}

function entryText(session: PluginSession, { filter, services }: RegisteredTextOptions): string {
  let text = `${session.name}@${session.version.slice(0, MAX_VERSION_CHARS) || "(no version)"}`;
  if (filter.hasRange && !isSemver(session)) text += " (not semver, so it matches no version range)";
  if (Object.keys(session.labels).length) text += ` {${labelsText(session.labels, MAX_LABELS_LISTED)}}`;
  if (services) {
    const names = session.services.map((service) => service.name);
    const shown = names.slice(0, MAX_SERVICES_LISTED);
    if (names.length > shown.length) shown.push(`+${names.length - shown.length} more`);
    text += ` (${shown.join(", ") || "no services"})`;
  }
  if (!session.accepting) text += " [draining]";
  return text;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
