// IAM wildcards: `*` matches any run of characters (including `/` and none), `?` exactly one.
// Patterns are compiled once, at parse time, into one anchored RegExp per list.

const SPECIAL = /[.+^${}()|[\]\\]/g;

/** The RegExp source of one wildcard pattern (unanchored); `any` is what a wildcard character may be. */
export function wildcardSource(pattern: string, any = '.'): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += `${any}*`;
    else if (ch === '?') out += any;
    else out += ch.replace(SPECIAL, '\\$&');
  }
  return out;
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** One RegExp matching any of `patterns` in full (`s`: `.` also matches newlines). */
export function compileWildcards(patterns: readonly string[], ignoreCase: boolean): RegExp {
  const body = patterns.map((p) => wildcardSource(p)).join('|');
  return new RegExp(`^(?:${body})$`, ignoreCase ? 'is' : 's');
}

/**
 * Whether some string that starts with `literal` matches `pattern` (used to ask "can this Resource
 * name an object under bucket/"). Runs the pattern as an NFA over the literal; any reachable state
 * can be completed, since every wildcard pattern matches some string.
 */
export function matchesSomeExtension(pattern: string, literal: string): boolean {
  let states = closure(pattern, new Set([0]));
  for (let k = 0; k < literal.length; k++) {
    const ch = literal[k];
    const next = new Set<number>();
    for (const i of states) {
      if (i >= pattern.length) continue;
      const p = pattern[i];
      if (p === '*') next.add(i);
      else if (p === '?' || p === ch) next.add(i + 1);
    }
    states = closure(pattern, next);
    if (states.size === 0) return false;
  }
  return true;
}

function closure(pattern: string, states: Set<number>): Set<number> {
  for (const i of states) if (pattern[i] === '*') states.add(i + 1); // Set iteration visits added items
  return states;
}
