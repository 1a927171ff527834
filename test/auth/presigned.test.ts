import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticate } from '../../src/auth/index.ts';
import { collect, CREDS, HOST, input, lookup, NOW, opts, presignQuery, queryString, s3code, sdkSigner } from './helpers.ts';

test('AWS documentation presigned URL example verifies', async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const docLookup = async (id: string) => (id === 'AKIAIOSFODNN7EXAMPLE' ? { accessKeyId: id, secretAccessKey: secret } : undefined);
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const docOpts = { region: 'us-east-1', now: () => Date.UTC(2013, 4, 24, 10) };
  const r = await authenticate(input('GET', url, { host: 'examplebucket.s3.amazonaws.com' }), docLookup, docOpts);
  assert.equal(r.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  await assert.rejects(
    authenticate(input('GET', url.replace('test.txt', 'test2.txt'), { host: 'examplebucket.s3.amazonaws.com' }), docLookup, docOpts),
    s3code('SignatureDoesNotMatch'),
  );
  // One day later it has expired.
  await assert.rejects(
    authenticate(input('GET', url, { host: 'examplebucket.s3.amazonaws.com' }), docLookup, { ...docOpts, now: () => Date.UTC(2013, 4, 25, 0, 0, 1) }),
    s3code('AccessDenied', /^Request has expired$/),
  );
});

test('SDK-presigned GET with special characters verifies; body is unsigned', async () => {
  const path = '/bucket/dir/a%20b%2Bc%21%C3%BC';
  const { query, headers } = await presignQuery({ method: 'GET', path, query: { 'response-content-disposition': 'attachment; filename="x y.txt"' } });
  assert.equal(query['X-Amz-Content-Sha256'], 'UNSIGNED-PAYLOAD');
  const r = await authenticate(input('GET', `${path}?${queryString(query)}`, headers), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
});

test('presigned PUT: body passes through unchecked', async () => {
  const { query, headers } = await presignQuery({ method: 'PUT', path: '/bucket/up' });
  const body = Buffer.from('uploaded via a presigned URL');
  const r = await authenticate(input('PUT', `/bucket/up?${queryString(query)}`, { ...headers, 'content-length': String(body.length) }, body), lookup, opts);
  assert.deepEqual(await collect(r.body), body);
  assert.equal(r.contentLength, body.length);
});

test('expired, not yet valid, and out-of-range X-Amz-Expires', async () => {
  const { query, headers } = await presignQuery({ method: 'GET', path: '/bucket/k' }, 600, new Date(NOW - 601_000));
  await assert.rejects(authenticate(input('GET', `/bucket/k?${queryString(query)}`, headers), lookup, opts), s3code('AccessDenied', /^Request has expired$/));
  const fresh = await presignQuery({ method: 'GET', path: '/bucket/k' }, 600, new Date(NOW - 590_000));
  assert.equal((await authenticate(input('GET', `/bucket/k?${queryString(fresh.query)}`, fresh.headers), lookup, opts)).accessKeyId, CREDS.accessKeyId);

  const future = await presignQuery({ method: 'GET', path: '/bucket/k' }, 600, new Date(NOW + 3600_000));
  await assert.rejects(authenticate(input('GET', `/bucket/k?${queryString(future.query)}`, future.headers), lookup, opts), s3code('AccessDenied', /not valid yet/));

  for (const expires of ['0', '604801', '-5', 'abc']) {
    const q = { ...fresh.query, 'X-Amz-Expires': expires };
    await assert.rejects(authenticate(input('GET', `/bucket/k?${queryString(q)}`, fresh.headers), lookup, opts), s3code('AuthorizationQueryParametersError'), expires);
  }
});

test('tampered presigned URLs fail', async () => {
  const { query, headers } = await presignQuery({ method: 'GET', path: '/bucket/k', query: { versionId: 'v1' } });
  const url = (q: Record<string, string>, path = '/bucket/k') => `${path}?${queryString(q)}`;
  await assert.rejects(authenticate(input('GET', url(query, '/bucket/other'), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', url({ ...query, versionId: 'v2' }), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', url({ ...query, 'X-Amz-Expires': '7200' }), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', url({ ...query, extra: '1' }), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('PUT', url(query), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  const flipped = query['X-Amz-Signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  await assert.rejects(authenticate(input('GET', url({ ...query, 'X-Amz-Signature': flipped }), headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('GET', url(query), { ...headers, host: 'evil.example' }), lookup, opts), s3code('SignatureDoesNotMatch'));
  // Unsigned steering headers are refused even though the signature itself is good.
  await assert.rejects(
    authenticate(input('GET', url(query), { ...headers, 'x-amz-copy-source': 'bucket/secret' }), lookup, opts),
    (e: any) => s3code('AccessDenied', /not signed/)(e) && e.fields.HeadersNotSigned === 'x-amz-copy-source',
  );
});

test('presigned parameter errors', async () => {
  const { query, headers } = await presignQuery({ method: 'GET', path: '/bucket/k' });
  const url = (q: Record<string, string | undefined>) => `/bucket/k?${queryString(q)}`;
  await assert.rejects(authenticate(input('GET', url({ ...query, 'X-Amz-Date': undefined }), headers), lookup, opts), s3code('AuthorizationQueryParametersError'));
  await assert.rejects(authenticate(input('GET', url({ ...query, 'X-Amz-Algorithm': 'AWS4-HMAC-SHA512' }), headers), lookup, opts), s3code('AuthorizationQueryParametersError', /X-Amz-Algorithm/));
  await assert.rejects(authenticate(input('GET', url({ ...query, 'X-Amz-Date': '20250115' }), headers), lookup, opts), s3code('AuthorizationQueryParametersError', /ISO8601/));
  const wrongRegion = await presignQuery({ method: 'GET', path: '/bucket/k' }, 3600, new Date(NOW), sdkSigner(CREDS, 'us-west-2'));
  await assert.rejects(authenticate(input('GET', url(wrongRegion.query), headers), lookup, opts), (e: any) => {
    s3code('AuthorizationQueryParametersError', /region 'us-west-2' is wrong/)(e);
    return e.fields.Region === opts.region;
  });
  const unknown = await presignQuery({ method: 'GET', path: '/bucket/k' }, 3600, new Date(NOW), sdkSigner({ accessKeyId: 'AKIDNOPE', secretAccessKey: 's' }));
  await assert.rejects(authenticate(input('GET', url(unknown.query), headers), lookup, opts), s3code('InvalidAccessKeyId'));
  // host must be among the signed headers.
  await assert.rejects(
    authenticate(input('GET', url({ ...query, 'X-Amz-SignedHeaders': 'x-amz-date' }), { host: HOST }), lookup, opts),
    (e: any) => s3code('AccessDenied')(e) && /host/.test(e.fields.HeadersNotSigned),
  );
});
