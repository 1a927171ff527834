import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { authenticate } from '../../src/auth/index.ts';
import { collect, CREDS, HOST, input, lookup, NOW, opts, s3code } from './helpers.ts';

const sign = (sts: string, secret = CREDS.secretAccessKey) => createHmac('sha1', secret).update(sts, 'utf8').digest('base64');
const date = new Date(NOW).toUTCString();

const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const docLookup = async (id: string) => (id === 'AKIAIOSFODNN7EXAMPLE' ? { accessKeyId: id, secretAccessKey: DOC_SECRET } : undefined);

test('AWS documentation SigV2 examples verify (virtual-hosted bucket)', async () => {
  const at = (d: string) => ({ region: 'us-east-1', now: () => Date.parse(d) });
  const get = { ...input('GET', '/photos/puppy.jpg', { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000', authorization: 'AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=' }), virtualHostBucket: 'johnsmith' };
  assert.equal((await authenticate(get, docLookup, at('Tue, 27 Mar 2007 19:40:00 +0000'))).accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  const put = {
    ...input('PUT', '/photos/puppy.jpg', { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 21:15:45 +0000', 'content-type': 'image/jpeg', authorization: 'AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=' }),
    virtualHostBucket: 'johnsmith',
  };
  assert.equal((await authenticate(put, docLookup, at('Tue, 27 Mar 2007 21:15:00 +0000'))).accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  const presigned = {
    ...input('GET', '/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620', { host: 'johnsmith.s3.amazonaws.com' }),
    virtualHostBucket: 'johnsmith',
  };
  assert.equal((await authenticate(presigned, docLookup, at('Tue, 27 Mar 2007 19:36:42 +0000'))).accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  // Without knowing the virtual-hosted bucket, the resource differs.
  await assert.rejects(authenticate({ ...get, virtualHostBucket: undefined, body: get.body }, docLookup, at('Tue, 27 Mar 2007 19:40:00 +0000')), s3code('SignatureDoesNotMatch'));
});

test('header SigV2: good, bad signature, unknown key, malformed', async () => {
  const sts = `PUT\n\ntext/plain\n${date}\n/bucket/note.txt`;
  const headers = { host: HOST, date, 'content-type': 'text/plain', authorization: `AWS ${CREDS.accessKeyId}:${sign(sts)}` };
  const body = Buffer.from('v2 body');
  const r = await authenticate(input('PUT', '/bucket/note.txt', headers, body), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
  assert.deepEqual(await collect(r.body), body);

  await assert.rejects(authenticate(input('PUT', '/bucket/note.txt', { ...headers, 'content-type': 'text/html' }), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('PUT', '/bucket/other.txt', headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('PUT', '/bucket/note.txt', { ...headers, authorization: `AWS ${CREDS.accessKeyId}:${sign(sts, 'wrong')}` }), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('PUT', '/bucket/note.txt', { ...headers, authorization: `AWS NOSUCHKEY:${sign(sts)}` }), lookup, opts), s3code('InvalidAccessKeyId'));
  await assert.rejects(authenticate(input('PUT', '/bucket/note.txt', { ...headers, authorization: 'AWS justakey' }), lookup, opts), s3code('InvalidArgument'));
  // An x-amz-* header added after signing is part of the string to sign, so it breaks the signature.
  await assert.rejects(authenticate(input('PUT', '/bucket/note.txt', { ...headers, 'x-amz-acl': 'public-read' }), lookup, opts), s3code('SignatureDoesNotMatch'));
});

test('SigV2 with x-amz-date and x-amz-* headers, Content-MD5, sub-resources', async () => {
  const md5 = '1B2M2Y8AsgTpgAmY7PhCfg==';
  const amz = `x-amz-date:${date}\nx-amz-meta-author:alice,bob\nx-amz-meta-z:folded value\n`;
  const sts = `PUT\n${md5}\n\n\n${amz}/bucket/k?partNumber=2&uploadId=abc-123`;
  const headers = {
    host: HOST,
    date: 'ignored when x-amz-date is present',
    'x-amz-date': date,
    'content-md5': md5,
    'X-Amz-Meta-Z': '  folded\r\n   value ',
    'x-amz-meta-author': 'alice,bob',
    authorization: `AWS ${CREDS.accessKeyId}:${sign(sts)}`,
  };
  const r = await authenticate(input('PUT', '/bucket/k?uploadId=abc-123&partNumber=2&x-id=UploadPart', headers), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
  await assert.rejects(authenticate(input('PUT', '/bucket/k?uploadId=abc-124&partNumber=2', headers), lookup, opts), s3code('SignatureDoesNotMatch'));

  // Value-less sub-resource and a response override (signed decoded, botocore style).
  const sts2 = `GET\n\n\n${date}\n/bucket/k?acl`;
  const h2 = { host: HOST, date, authorization: `AWS ${CREDS.accessKeyId}:${sign(sts2)}` };
  assert.equal((await authenticate(input('GET', '/bucket/k?acl', h2), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  const sts3 = `GET\n\n\n${date}\n/bucket/k?response-content-disposition=attachment; filename="a b.txt"&versionId=v1`;
  const h3 = { host: HOST, date, authorization: `AWS ${CREDS.accessKeyId}:${sign(sts3)}` };
  const url3 = '/bucket/k?versionId=v1&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&max-keys=5';
  assert.equal((await authenticate(input('GET', url3, h3), lookup, opts)).accessKeyId, CREDS.accessKeyId);
});

test('SigV2 as s3cmd signs: strictly re-encoded path and encoded sub-resource values', async () => {
  const sts = `GET\n\n\n${date}\n/bucket/a%20b%21%28c%29?response-content-type=text%2Fplain`;
  const headers = { host: HOST, date, authorization: `AWS ${CREDS.accessKeyId}:${sign(sts)}` };
  const r = await authenticate(input('GET', "/bucket/a%20b!(c)?response-content-type=text/plain", headers), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
});

test('SigV2 clock skew and missing date', async () => {
  const old = new Date(NOW - 20 * 60_000).toUTCString();
  const sts = `GET\n\n\n${old}\n/bucket/k`;
  await assert.rejects(authenticate(input('GET', '/bucket/k', { host: HOST, date: old, authorization: `AWS ${CREDS.accessKeyId}:${sign(sts)}` }), lookup, opts), s3code('RequestTimeTooSkewed'));
  await assert.rejects(authenticate(input('GET', '/bucket/k', { host: HOST, authorization: `AWS ${CREDS.accessKeyId}:${sign('x')}` }), lookup, opts), s3code('AccessDenied', /Date/));
});

test('SigV2 query (presigned): good, expired, tampered, incomplete', async () => {
  const expires = String(Math.floor(NOW / 1000) + 300);
  const sig = sign(`GET\n\n\n${expires}\n/bucket/shared.pdf`);
  const url = (e: string, s: string, path = '/bucket/shared.pdf') => `${path}?AWSAccessKeyId=${CREDS.accessKeyId}&Expires=${e}&Signature=${encodeURIComponent(s)}`;
  assert.equal((await authenticate(input('GET', url(expires, sig), { host: HOST }), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  // Some clients leave the base64 '+' and '/' unencoded.
  assert.equal((await authenticate(input('GET', url(expires, sig).replace(encodeURIComponent(sig), sig.replace(/=/g, '%3D')), { host: HOST }), lookup, opts)).accessKeyId, CREDS.accessKeyId);

  const past = String(Math.floor(NOW / 1000) - 1);
  await assert.rejects(authenticate(input('GET', url(past, sign(`GET\n\n\n${past}\n/bucket/shared.pdf`)), { host: HOST }), lookup, opts), s3code('AccessDenied', /^Request has expired$/));
  const later = String(Number(expires) + 3600);
  await assert.rejects(authenticate(input('GET', url(later, sig), { host: HOST }), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', url(expires, sig, '/bucket/other.pdf'), { host: HOST }), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', `/bucket/shared.pdf?AWSAccessKeyId=${CREDS.accessKeyId}&Signature=x`, { host: HOST }), lookup, opts), s3code('AccessDenied', /requires/));
  await assert.rejects(
    authenticate(input('GET', url(expires, sig) + '&X-Amz-Algorithm=AWS4-HMAC-SHA256', { host: HOST }), lookup, opts),
    s3code('InvalidArgument', /Only one auth mechanism/),
  );
});
