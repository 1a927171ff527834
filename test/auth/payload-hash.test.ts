import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { PayloadHashVerifier } from '../../src/auth/payload-hash.ts';
import { collect, collectError, EMPTY_SHA256, s3code, sha256Hex } from './helpers.ts';

test('passes data through and ends cleanly when the hash matches', async () => {
  const parts = [Buffer.from('abc'), Buffer.from('def')];
  const out = await collect(Readable.from(parts).pipe(new PayloadHashVerifier(sha256Hex('abcdef').toUpperCase())));
  assert.equal(out.toString(), 'abcdef');
  assert.equal((await collect(Readable.from([]).pipe(new PayloadHashVerifier(EMPTY_SHA256)))).length, 0);
});

test('fails with XAmzContentSHA256Mismatch, naming both hashes', async () => {
  const err: any = await collectError(Readable.from([Buffer.from('abcdeF')]).pipe(new PayloadHashVerifier(sha256Hex('abcdef'))));
  assert.ok(s3code('XAmzContentSHA256Mismatch')(err));
  assert.equal(err.fields.ClientComputedContentSHA256, sha256Hex('abcdef'));
  assert.equal(err.fields.S3ComputedContentSHA256, sha256Hex('abcdeF'));
});
