import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalPath, canonicalQueryPart, percentDecode, uriEncode } from '../../src/auth/uri-encoding.ts';

test('uriEncode keeps only unreserved characters (and / when asked), upper-case hex', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const enc = uriEncode(all, false);
  assert.match(enc, /^(%[0-9A-F]{2}|[A-Za-z0-9\-._~])+$/);
  assert.equal(percentDecode(enc).compare(all), 0);
  assert.equal(uriEncode(Buffer.from('a/b c+~'), true), 'a/b%20c%2B~');
  assert.equal(uriEncode(Buffer.from('a/b'), false), 'a%2Fb');
  assert.equal(uriEncode(Buffer.from('ü'), false), '%C3%BC');
});

test('percentDecode: bytes, literal plus unless asked, malformed escapes kept', () => {
  assert.equal(percentDecode('a%20b+c').toString(), 'a b+c');
  assert.equal(percentDecode('a%20b+c', true).toString(), 'a b c');
  assert.equal(percentDecode('%zz%4').toString(), '%zz%4');
  assert.equal(percentDecode('%e6%97%a5').toString(), '日');
  assert.equal(percentDecode('日🎉').toString(), '日🎉');
  assert.deepEqual([...percentDecode('%FF%00')], [255, 0]);
});

test('canonicalPath: per-segment decode and re-encode, never normalized', () => {
  assert.equal(canonicalPath('/b/k'), '/b/k');
  assert.equal(canonicalPath("/b/a!b*c'(d)"), '/b/a%21b%2Ac%27%28d%29');
  assert.equal(canonicalPath('/b/a%7eb'), '/b/a~b');
  assert.equal(canonicalPath('/b/a+b%2bc'), '/b/a%2Bb%2Bc');
  assert.equal(canonicalPath('/b/x%2fy/z'), '/b/x%2Fy/z');
  assert.equal(canonicalPath('/b//../.'), '/b//../.');
  assert.equal(canonicalPath('/b/100%'), '/b/100%25');
});

test('canonicalQueryPart encodes / and keeps unreserved', () => {
  assert.equal(canonicalQueryPart('a/b', false), 'a%2Fb');
  assert.equal(canonicalQueryPart('a+b', false), 'a%2Bb');
  assert.equal(canonicalQueryPart('a+b', true), 'a%20b');
  assert.equal(canonicalQueryPart('A-z_0.9~', false), 'A-z_0.9~');
});
