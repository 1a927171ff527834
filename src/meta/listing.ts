// Key order and the prefix/delimiter walk shared by every MetaStore implementation.
//
// Keys are ordered by their UTF-8 bytes, which for well-formed strings is Unicode code point order
// (not JavaScript's UTF-16 code unit order: U+FF61 < U+1F600, but '\uFF61' > '\uD83D\uDE00').
// A store reads its keys through range scans `lower <= key < upper` (both in that order) and feeds
// them to a ListingCursor, which decides what the page holds and where to seek next. When a key
// rolls up into a common prefix P, the cursor emits P once and asks the store to seek to
// successor(P), so keys under P are never read: a page costs O(entries) rows and queries, whatever
// the number of keys under its common prefixes.

/** Compares two well-formed strings in UTF-8 byte (code point) order: negative, 0 or positive. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // At the first difference the strings are aligned on the same code point boundary. A lead
      // surrogate starts a code point above U+FFFF, so surrogates sort after U+E000..U+FFFF.
      return fixup(x) - fixup(y);
    }
  }
  return a.length - b.length;
}

function fixup(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/**
 * The smallest string greater than every string that starts with `prefix` (in UTF-8 byte order), or
 * undefined when there is none (empty prefix, or only U+10FFFF code points). The last code point is
 * incremented (skipping the surrogate range), with carry: trailing U+10FFFF are dropped. Working on
 * code points rather than bytes keeps the bound a valid string, so it compares with stored text
 * keys like with like.
 */
export function successor(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0) {
    const unit = prefix.charCodeAt(end - 1);
    const lead = end >= 2 ? prefix.charCodeAt(end - 2) : 0;
    const pair = unit >= 0xdc00 && unit <= 0xdfff && lead >= 0xd800 && lead <= 0xdbff;
    const start = pair ? end - 2 : end - 1;
    const cp = prefix.codePointAt(start)!;
    if (cp < 0x10ffff) {
      const next = cp === 0xd7ff ? 0xe000 : cp + 1;
      return prefix.slice(0, start) + String.fromCodePoint(next);
    }
    end = start;
  }
  return undefined;
}

/** A range start: keys `> key`, or `>= key` when inclusive. */
export interface Bound {
  key: string;
  inclusive: boolean;
}

export type CursorEntry<Row> = { row: Row; key: string } | { prefix: string };

export interface CursorOptions {
  prefix: string;
  delimiter?: string;
  /** Exclusive start key (S3's marker / start-after / continuation token / key-marker). */
  after?: string;
  limit: number;
}

/**
 * One page of a prefix/delimiter listing. Drive it as:
 *
 *   for (let b = cursor.start(); b; b = cursor.resume())
 *     for (const row of scan(b, cursor.upper))   // ordered by key, stop early when told
 *       if (!cursor.add(keyOf(row), row)) break;
 *   const { entries, isTruncated } = cursor.page();
 *
 * Rows may share a key (several uploads of one key); each is an entry of its own.
 */
export class ListingCursor<Row> {
  /** Exclusive upper bound of every scan: successor(prefix), or undefined for no bound. */
  readonly upper: string | undefined;
  private readonly prefix: string;
  private readonly delimiter: string | undefined;
  private readonly after: string | undefined;
  private readonly limit: number;
  private readonly entries: CursorEntry<Row>[] = [];
  private pending: Bound | undefined;

  constructor(options: CursorOptions) {
    this.prefix = options.prefix;
    this.delimiter = options.delimiter === '' ? undefined : options.delimiter;
    this.after = options.after === '' ? undefined : options.after;
    this.limit = Math.max(0, Math.floor(options.limit));
    this.upper = successor(this.prefix);
  }

  /** The first scan's lower bound, or undefined when the page is empty without reading anything. */
  start(): Bound | undefined {
    if (this.limit === 0) return undefined;
    const { prefix, after, upper } = this;
    if (after === undefined || compareKeys(after, prefix) < 0) return { key: prefix, inclusive: true };
    if (upper !== undefined && compareKeys(after, upper) >= 0) return undefined;
    // `after` starts with the prefix. If it is (or lies under) a common prefix, that common prefix
    // was already listed: skip every key under it.
    const rolled = this.rollup(after);
    if (rolled !== undefined) return this.beyond(rolled);
    return { key: after, inclusive: false };
  }

  /**
   * Offers the next row of the current scan (in order, within [bound, upper)). Returns false when
   * the caller must stop this scan: then resume() says where the next one starts, if any.
   */
  add(key: string, row: Row): boolean {
    const rolled = this.rollup(key);
    if (rolled !== undefined) {
      this.entries.push({ prefix: rolled });
      this.pending = this.full() ? undefined : this.beyond(rolled);
      return false;
    }
    this.entries.push({ row, key });
    if (this.full()) {
      this.pending = undefined;
      return false;
    }
    return true;
  }

  /** After a scan: the next scan's lower bound, or undefined when the page is complete. */
  resume(): Bound | undefined {
    const next = this.pending;
    this.pending = undefined;
    return next;
  }

  /** The entries of the page (at most `limit`), and whether at least one more exists after them. */
  page(): { entries: CursorEntry<Row>[]; isTruncated: boolean } {
    if (this.entries.length > this.limit) {
      return { entries: this.entries.slice(0, this.limit), isTruncated: true };
    }
    return { entries: this.entries, isTruncated: false };
  }

  /** One more entry than the limit tells whether the page is truncated. */
  private full(): boolean {
    return this.entries.length > this.limit;
  }

  /** The common prefix `key` rolls up into, if any. `key` starts with the listing's prefix. */
  private rollup(key: string): string | undefined {
    if (this.delimiter === undefined) return undefined;
    const i = key.indexOf(this.delimiter, this.prefix.length);
    return i < 0 ? undefined : key.slice(0, i + this.delimiter.length);
  }

  /** The bound just past every key under `commonPrefix`, or undefined if nothing can follow. */
  private beyond(commonPrefix: string): Bound | undefined {
    const next = successor(commonPrefix);
    if (next === undefined) return undefined;
    if (this.upper !== undefined && compareKeys(next, this.upper) >= 0) return undefined;
    return { key: next, inclusive: true };
  }
}
