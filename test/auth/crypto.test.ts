import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { hmacSha256Hex } from '../../src/auth/crypto.ts';
import { Prng } from '../helpers/seeded.ts';

test('hmacSha256Hex equals createHmac for every key form, key size and message', () => {
  const prng = new Prng(17);
  const next = () => prng.next();
  for (let i = 0; i < 200; i++) {
    const raw = randomBytes(1 + Math.floor(next() * 100)); // shorter and longer than one block
    const length = Math.floor(next() * 3000);
    const message = Array.from({ length }, () => String.fromCodePoint(next() < 0.9 ? 32 + Math.floor(next() * 95) : 0x80 + Math.floor(next() * 0x2000))).join('');
    const want = createHmac('sha256', raw).update(message, 'utf8').digest('hex');
    assert.equal(hmacSha256Hex(createSecretKey(raw), message), want);
    assert.equal(hmacSha256Hex(raw, message), want);
  }
  const key = createSecretKey(randomBytes(32));
  assert.equal(hmacSha256Hex(key, ''), createHmac('sha256', key).update('').digest('hex'));
  assert.equal(hmacSha256Hex(key, ''), hmacSha256Hex(key, ''));
});
