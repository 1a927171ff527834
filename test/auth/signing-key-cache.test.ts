import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSigningKey, SigningKeyCache } from '../../src/auth/signing-key-cache.ts';
import { signingKey } from './helpers.ts';

test('derived key matches the SigV4 derivation', () => {
  assert.deepEqual(deriveSigningKey('secret', '20250115', 'eu-west-3', 's3'), signingKey('secret', '20250115', 'eu-west-3'));
  // AWS documentation example key (hex) for 20150830/us-east-1/iam.
  assert.equal(
    deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'iam').toString('hex'),
    'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
  );
});

test('cache returns the same key, separates inputs, and stays bounded (LRU)', () => {
  const cache = new SigningKeyCache(3);
  const a = cache.get('s1', '20250115', 'r', 's3');
  assert.equal(cache.get('s1', '20250115', 'r', 's3'), a, 'hit returns the cached buffer');
  assert.notDeepEqual(cache.get('s2', '20250115', 'r', 's3'), a);
  assert.notDeepEqual(cache.get('s1', '20250116', 'r', 's3'), a);
  assert.equal(cache.size, 3);
  cache.get('s1', '20250115', 'r', 's3'); // refresh a
  cache.get('s1', '20250115', 'r2', 's3'); // evicts the least recently used (s2)
  assert.equal(cache.size, 3);
  assert.equal(cache.get('s1', '20250115', 'r', 's3'), a, 'recently used entry survived');
  const big = new SigningKeyCache(100);
  for (let i = 0; i < 1000; i++) big.get('s' + i, '20250115', 'r', 's3');
  assert.equal(big.size, 100);
});
