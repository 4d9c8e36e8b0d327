/**
 * `--allow-paths` patterns use Go's `path.Match` syntax: `*` is any run of
 * non-`/` characters, `?` one non-`/` character, `[a-z]`/`[^a-z]` a class,
 * `\` escapes. The whole path must match. A malformed pattern is rejected
 * when the proxy starts, as the real proxy's flag validation does.
 */
export function compilePathPattern(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let source = "";
  let i = 0;
  const bad = () =>
    new Error(`invalid allowPaths pattern ${JSON.stringify(pattern)}: syntax error in pattern`);
  const literal = (): string => {
    let c = chars[i++];
    if (c === "\\") {
      c = chars[i++];
      if (c === undefined) throw bad();
    }
    if (c === undefined) throw bad();
    return escapeChar(c);
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === "*") {
      source += "[^/]*";
      i++;
    } else if (c === "?") {
      source += "[^/]";
      i++;
    } else if (c === "[") {
      i++;
      let cls = "[";
      if (chars[i] === "^") {
        cls += "^";
        i++;
      }
      let ranges = 0;
      while (chars[i] !== "]") {
        if (i >= chars.length || chars[i] === "-") throw bad();
        const lo = literal();
        if (chars[i] === "-") {
          i++;
          if (i >= chars.length || chars[i] === "]") throw bad();
          cls += `${lo}-${literal()}`;
        } else {
          cls += lo;
        }
        ranges++;
      }
      if (ranges === 0) throw bad();
      i++;
      source += `${cls}]`;
    } else {
      source += literal();
    }
  }
  return new RegExp(`^${source}$`, "u");
}

function escapeChar(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/** A matcher for a list of patterns; an empty list allows every path. */
export function createPathFilter(patterns: readonly string[]): (path: string) => boolean {
  const compiled = patterns.map(compilePathPattern);
  if (compiled.length === 0) return () => true;
  return (path) => compiled.some((re) => re.test(path));
}
