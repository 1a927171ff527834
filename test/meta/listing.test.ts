import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKeys, ListingCursor, successor } from '../../src/meta/listing.ts';
import { byteOrder } from './reference.ts';

describe('compareKeys', () => {
  it('orders like UTF-8 bytes', () => {
    const samples = ['', 'a', 'ab', 'b', '\u007F', '\u0080', 'é', '\uD7FF', '\uE000', '\uFF61', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}', 'a\u{1F600}', 'a\uFFFF'];
    for (const x of samples) {
      for (const y of samples) assert.equal(Math.sign(compareKeys(x, y)), Math.sign(byteOrder(x, y)), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    }
  });
});

describe('successor', () => {
  it('increments the last code point, with carry', () => {
    assert.equal(successor('a/'), 'a0');
    assert.equal(successor('ab'), 'ac');
    assert.equal(successor('a\uD7FF'), 'a\uE000');
    assert.equal(successor('a\uFFFF'), 'a\u{10000}');
    assert.equal(successor('a\u{1F600}'), 'a\u{1F601}');
    assert.equal(successor('a\u{10FFFF}'), 'b');
    assert.equal(successor('a\u{10FFFF}\u{10FFFF}'), 'b');
    assert.equal(successor('\u{10FFFF}'), undefined);
    assert.equal(successor(''), undefined);
  });

  it('bounds exactly the strings that start with the prefix', () => {
    const prefixes = ['a', 'a/', '\uD7FF', '\uFFFF', '\u{1F600}', 'x\u{10FFFF}'];
    const tails = ['', '\u0000', 'z', '\u{10FFFF}', '\uFFFF', '\u{10FFFF}\u{10FFFF}'];
    for (const p of prefixes) {
      const s = successor(p)!;
      for (const t of tails) assert.ok(byteOrder(p + t, s) < 0, JSON.stringify([p, t]));
      assert.ok(byteOrder(s, p) > 0);
      assert.ok(!s.startsWith(p));
    }
  });
});

describe('ListingCursor', () => {
  it('asks for one seek per common prefix and stops one entry past the limit', () => {
    const keys = ['a/1', 'a/2', 'b', 'c/1', 'd'];
    const cursor = new ListingCursor<string>({ prefix: '', delimiter: '/', limit: 2 });
    const seeks: string[] = [];
    for (let b = cursor.start(); b; b = cursor.resume()) {
      seeks.push(`${b.inclusive ? '>=' : '>'}${b.key}`);
      for (const k of keys.filter((k) => (b.inclusive ? k >= b.key : k > b.key))) if (!cursor.add(k, k)) break;
    }
    assert.deepEqual(seeks, ['>=', '>=a0']);
    const page = cursor.page();
    assert.deepEqual(page.entries, [{ prefix: 'a/' }, { row: 'b', key: 'b' }]);
    assert.equal(page.isTruncated, true);
  });
});
