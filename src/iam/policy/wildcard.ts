// IAM wildcards: `*` matches any run of characters (including `/`, and none), `?` exactly one.
// Patterns are compiled once, at parse time. Matching does not use RegExp: a pattern like
// `*a*a*a*a*b` would make a backtracking regex take polynomial time of high degree on a long key,
// and both the pattern (a policy) and the key (a request) come from outside. Here each piece between
// stars is placed at its leftmost fit (which is always safe for globs), so a test costs at most
// key length x pattern length, usually one indexOf per piece.

export interface Matcher {
  test(s: string): boolean;
}

export function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** A matcher accepting a string that matches any of `patterns` in full. */
export function compileWildcards(patterns: readonly string[], ignoreCase: boolean): Matcher {
  const globs = patterns.map((p) => new Glob(ignoreCase ? p.toLowerCase() : p));
  if (globs.length === 1 && !ignoreCase) return globs[0]!;
  return {
    test(s: string): boolean {
      const t = ignoreCase ? s.toLowerCase() : s;
      for (const g of globs) if (g.test(t)) return true;
      return false;
    },
  };
}

class Glob implements Matcher {
  /** The pattern split at `*`: first piece anchored at the start, last at the end. */
  private readonly pieces: readonly string[];
  private readonly minLength: number;

  constructor(pattern: string) {
    this.pieces = pattern.split('*');
    this.minLength = this.pieces.reduce((n, p) => n + p.length, 0);
  }

  test(s: string): boolean {
    const pieces = this.pieces;
    const last = pieces.length - 1;
    if (last === 0) return s.length === pieces[0]!.length && fitsAt(s, pieces[0]!, 0);
    if (s.length < this.minLength) return false;
    const head = pieces[0]!;
    const tail = pieces[last]!;
    const end = s.length - tail.length;
    if (!fitsAt(s, head, 0) || !fitsAt(s, tail, end)) return false;
    let pos = head.length;
    for (let i = 1; i < last; i++) {
      const at = find(s, pieces[i]!, pos, end);
      if (at < 0) return false;
      pos = at + pieces[i]!.length;
    }
    return true;
  }
}

/** Whether `piece` (with `?` for any one character) matches `s` at `at`. */
function fitsAt(s: string, piece: string, at: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== s.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The leftmost index >= from where `piece` fits and ends by `end`, or -1. */
function find(s: string, piece: string, from: number, end: number): number {
  if (!piece.includes('?')) {
    const at = s.indexOf(piece, from);
    return at >= 0 && at + piece.length <= end ? at : -1;
  }
  for (let at = from; at + piece.length <= end; at++) if (fitsAt(s, piece, at)) return at;
  return -1;
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
