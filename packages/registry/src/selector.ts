import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import semver from "semver";
import type { PluginSession } from "./session.js";

/**
 * Which sessions of a plugin qualify, for `get`, `waitFor` and `byService`.
 * Every field given must match; an empty selector matches every session.
 */
export interface PluginSelector {
  /**
   * A semver range the plugin's version must satisfy, read as npm reads it:
   * `"^1.2.0"`, `">=1.2.0 <2.0.0"`, `"1.4.x"`. A prerelease such as
   * `1.3.0-rc.1` matches only a range that names a prerelease of 1.3.0, as
   * with npm. A version that is not valid semver (`"latest"`, `"dev"`) never
   * matches a range. A string that is not a range fails with INVALID_ARGUMENT.
   * Default: any version.
   */
  version?: string;
  /**
   * Labels the session must carry, each with exactly this value (an equality
   * selector, like `kubectl get -l region=eu,tier=gold`). Default: none.
   */
  labels?: Readonly<Record<string, string>>;
}

/** A selector ready to test sessions, and how to say it in an error. */
export interface SessionFilter {
  matches(session: PluginSession): boolean;
  /** True when the selector restricts anything. */
  readonly restricts: boolean;
  /** True when it has a version range, so versions that are not semver matter. */
  readonly hasRange: boolean;
  /** E.g. `" at ^2.0.0 with labels region=eu"`; empty for an empty selector. */
  readonly text: string;
}

/** Checks a selector once and returns its test. Throws INVALID_ARGUMENT for a bad range. */
export function compileSelector(selector: PluginSelector = {}): SessionFilter {
  const { version, labels = {} } = selector;
  const wanted = Object.entries(labels);
  let range: semver.Range | undefined;
  if (version !== undefined) {
    try {
      range = new semver.Range(version);
    } catch {
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `version ${JSON.stringify(version.slice(0, 80))} is not a semver range; ` +
          'use one such as "^1.2.0", ">=1.2.0 <2.0.0" or "1.4.x"',
      );
    }
  }
  const text =
    (version !== undefined ? ` at ${version.slice(0, 80)}` : "") +
    (wanted.length ? ` with labels ${labelsText(labels)}` : "");
  return {
    restricts: range !== undefined || wanted.length > 0,
    hasRange: range !== undefined,
    text,
    matches(session) {
      for (const [key, value] of wanted) {
        if (!Object.hasOwn(session.labels, key) || session.labels[key] !== value) return false;
      }
      if (!range) return true;
      const parsed = parsedVersion(session);
      return parsed !== null && range.test(parsed);
    },
  };
}

/** True when the session's version is valid semver, so a range can match it. */
export function isSemver(session: PluginSession): boolean {
  return parsedVersion(session) !== null;
}

/** `region=eu,tier=gold`, in key order, the way label selectors are written. */
export function labelsText(labels: Readonly<Record<string, string>>, max = Number.POSITIVE_INFINITY): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = entries.slice(0, max).map(([key, value]) => `${key}=${value}`);
  if (entries.length > max) shown.push(`+${entries.length - max} more`);
  return shown.join(",");
}

// A session's version never changes, and filters run on every call start:
// parse each once.
const parsed = new WeakMap<PluginSession, semver.SemVer | null>();

function parsedVersion(session: PluginSession): semver.SemVer | null {
  let version = parsed.get(session);
  if (version === undefined) {
    version = semver.parse(session.version);
    parsed.set(session, version);
  }
  return version;
}
