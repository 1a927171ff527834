import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authenticate } from '../../src/auth/index.ts';
import {
  collect, collectError, CREDS, EMPTY_SHA256, HOST, hmacHex, input, lookup, NOW, opts, queryString, REGION,
  s3code, sdkSigner, sha256Hex, signHeaders, signingKey,
} from './helpers.ts';

test('AWS documentation example (GET with Range) verifies', async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const docLookup = async (id: string) => (id === 'AKIAIOSFODNN7EXAMPLE' ? { accessKeyId: id, secretAccessKey: secret } : undefined);
  const headers = {
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY_SHA256,
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  };
  const docOpts = { region: 'us-east-1', now: () => Date.UTC(2013, 4, 24, 0, 3) };
  const r = await authenticate(input('GET', '/test.txt', headers), docLookup, docOpts);
  assert.equal(r.accessKeyId, 'AKIAIOSFODNN7EXAMPLE');
  await assert.rejects(
    authenticate(input('GET', '/test.txt', { ...headers, range: 'bytes=0-10' }), docLookup, docOpts),
    s3code('SignatureDoesNotMatch'),
  );
});

test('PUT with a hex payload hash: good body passes, other bytes fail XAmzContentSHA256Mismatch', async () => {
  const body = Buffer.from('hello, object store\n');
  const headers = await signHeaders({ method: 'PUT', path: '/bucket/key.txt', headers: { 'content-length': String(body.length) }, body });
  assert.equal(headers['x-amz-content-sha256'], sha256Hex(body));
  const ok = await authenticate(input('PUT', '/bucket/key.txt', headers, body), lookup, opts);
  assert.equal(ok.accessKeyId, CREDS.accessKeyId);
  assert.equal(ok.contentLength, body.length);
  assert.deepEqual(await collect(ok.body), body);

  const tampered = Buffer.from('hello, object stork\n');
  const bad = await authenticate(input('PUT', '/bucket/key.txt', headers, tampered), lookup, opts);
  assert.ok(s3code('XAmzContentSHA256Mismatch')(await collectError(bad.body)));
});

test('UNSIGNED-PAYLOAD passes the body through untouched', async () => {
  const body = Buffer.from('any bytes at all');
  const headers = await signHeaders({ method: 'PUT', path: '/bucket/u', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const r = await authenticate(input('PUT', '/bucket/u', headers, body), lookup, opts);
  assert.equal(r.accessKeyId, CREDS.accessKeyId);
  assert.deepEqual(await collect(r.body), body);
  assert.equal(r.trailers.size, 0);
});

test('GET with the empty-body hash', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k' });
  assert.equal(headers['x-amz-content-sha256'], EMPTY_SHA256);
  const r = await authenticate(input('GET', '/bucket/k', headers), lookup, opts);
  assert.equal((await collect(r.body)).length, 0);
  // A body smuggled into a GET signed as empty fails.
  // (An HTTP body always comes with a length or chunked framing; without either there is none.)
  const smuggled = await authenticate(input('GET', '/bucket/k', { ...headers, 'content-length': '5' }, 'extra'), lookup, opts);
  assert.ok(s3code('XAmzContentSHA256Mismatch')(await collectError(smuggled.body)));
});

test('wrong secret, tampered signed header, unknown key', async () => {
  const wrongSecret = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW), sdkSigner({ ...CREDS, secretAccessKey: 'nope' }));
  await assert.rejects(authenticate(input('GET', '/bucket/k', wrongSecret), lookup, opts), s3code('SignatureDoesNotMatch'));

  const headers = await signHeaders({ method: 'PUT', path: '/bucket/k', headers: { 'x-amz-meta-color': 'blue', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  await assert.rejects(
    authenticate(input('PUT', '/bucket/k', { ...headers, 'x-amz-meta-color': 'red' }), lookup, opts),
    (e: any) => s3code('SignatureDoesNotMatch')(e) && /x-amz-meta-color:red/.test(e.fields.CanonicalRequest),
  );
  await assert.rejects(authenticate(input('PUT', '/bucket/k2', headers), lookup, opts), s3code('SignatureDoesNotMatch'));
  await assert.rejects(authenticate(input('POST', '/bucket/k', headers), lookup, opts), s3code('SignatureDoesNotMatch'));

  const other = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW), sdkSigner({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' }));
  await assert.rejects(authenticate(input('GET', '/bucket/k', other), lookup, opts), s3code('InvalidAccessKeyId'));
});

test('wrong region -> AuthorizationHeaderMalformed naming the right one; wrong service too', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW), sdkSigner(CREDS, 'us-east-1'));
  await assert.rejects(authenticate(input('GET', '/bucket/k', headers), lookup, opts), (e: any) => {
    s3code('AuthorizationHeaderMalformed', /region 'us-east-1' is wrong; expecting 'eu-west-3'/)(e);
    assert.equal(e.fields.Region, REGION);
    return true;
  });
  const svc = { ...headers, authorization: headers.authorization!.replace('/us-east-1/s3/', `/${REGION}/ec2/`) };
  await assert.rejects(authenticate(input('GET', '/bucket/k', svc), lookup, opts), s3code('AuthorizationHeaderMalformed', /service/));
});

test('clock skew beyond 15 minutes -> RequestTimeTooSkewed', async () => {
  const late = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW - 16 * 60_000));
  await assert.rejects(authenticate(input('GET', '/bucket/k', late), lookup, opts), s3code('RequestTimeTooSkewed'));
  const early = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW + 16 * 60_000));
  await assert.rejects(authenticate(input('GET', '/bucket/k', early), lookup, opts), s3code('RequestTimeTooSkewed'));
  const within = await signHeaders({ method: 'GET', path: '/bucket/k' }, new Date(NOW - 14 * 60_000));
  assert.equal((await authenticate(input('GET', '/bucket/k', within), lookup, opts)).accessKeyId, CREDS.accessKeyId);
});

test('credential date must be the x-amz-date day; x-amz-date must be valid', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k' });
  const auth = headers.authorization!.replace('/20250115/', '/20250114/');
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, authorization: auth }), lookup, opts), s3code('AuthorizationHeaderMalformed', /credential date/));
  await assert.rejects(
    authenticate(input('GET', '/bucket/k', { ...headers, 'x-amz-date': '2025-01-15T12:00:00Z' }), lookup, opts),
    s3code('AccessDenied', /valid Date or x-amz-date/),
  );
});

test('missing or invalid x-amz-content-sha256', async () => {
  const signer = sdkSigner();
  const req = { method: 'GET', protocol: 'http:', hostname: 's3.test.local', port: 9000, path: '/bucket/k', query: {}, headers: { host: HOST } };
  const noHash = new (signer.constructor as any)({ service: 's3', region: REGION, credentials: CREDS, sha256: (signer as any).sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await noHash.sign(req, { signingDate: new Date(NOW) });
  assert.equal(signed.headers['x-amz-content-sha256'], undefined);
  await assert.rejects(authenticate(input('GET', '/bucket/k', signed.headers), lookup, opts), s3code('InvalidRequest', /x-amz-content-sha256/));

  const bogus = await signHeaders({ method: 'GET', path: '/bucket/k', headers: { 'x-amz-content-sha256': 'SOMETHING' } });
  await assert.rejects(authenticate(input('GET', '/bucket/k', bogus), lookup, opts), s3code('InvalidArgument', /x-amz-content-sha256/));
});

test('x-amz-* headers and host must be signed', async () => {
  const headers = await signHeaders({ method: 'PUT', path: '/bucket/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  await assert.rejects(
    authenticate(input('PUT', '/bucket/k', { ...headers, 'x-amz-copy-source': '/other/secret' }), lookup, opts),
    (e: any) => s3code('AccessDenied', /not signed/)(e) && e.fields.HeadersNotSigned === 'x-amz-copy-source',
  );
  // Unsigned headers outside x-amz-* (e.g. added by a proxy) are fine.
  await authenticate(input('PUT', '/bucket/k', { ...headers, 'x-forwarded-for': '10.0.0.1', 'user-agent': 'curl' }), lookup, opts);

  const noHost = headers.authorization!.replace('SignedHeaders=host;', 'SignedHeaders=');
  await assert.rejects(
    authenticate(input('PUT', '/bucket/k', { ...headers, authorization: noHost }), lookup, opts),
    (e: any) => s3code('AccessDenied')(e) && e.fields.HeadersNotSigned === 'host',
  );
});

test('malformed or conflicting Authorization', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k' });
  const noSig = headers.authorization!.replace(/, ?Signature=[0-9a-f]+/, '');
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, authorization: noSig }), lookup, opts), s3code('AuthorizationHeaderMalformed'));
  const badCred = headers.authorization!.replace(/Credential=[^,]+/, 'Credential=AKID/20250115/s3/aws4_request');
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, authorization: badCred }), lookup, opts), s3code('AuthorizationHeaderMalformed', /Credential/));
  const shortSig = headers.authorization!.replace(/Signature=[0-9a-f]+/, 'Signature=abc');
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, authorization: shortSig }), lookup, opts), s3code('AuthorizationHeaderMalformed'));
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, authorization: 'Bearer abc' }), lookup, opts), s3code('InvalidArgument', /Unsupported/));
  await assert.rejects(
    authenticate(input('GET', '/bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256', headers), lookup, opts),
    s3code('InvalidArgument', /Only one auth mechanism/),
  );
});

test('comma-only and space-separated Authorization components are accepted', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k' });
  for (const variant of [headers.authorization!.replace(/, /g, ','), headers.authorization!.replace(/, /g, ' ')]) {
    const r = await authenticate(input('GET', '/bucket/k', { ...headers, authorization: variant }), lookup, opts);
    assert.equal(r.accessKeyId, CREDS.accessKeyId);
  }
});

/** The SDK's own path encoding for S3 keys: RFC 3986 strict, `/` kept. */
function strictPath(key: string): string {
  return key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/');
}

const KEYS = [
  'plain.txt',
  'with space.txt',
  'plus+sign',
  'percent%20literal%',
  'unicode-ü-日本-🎉',
  'double//slash',
  'dot/../parent',
  './dot',
  "bang!star*quote'(paren)",
  'tilde~and=equals&amp;',
  'colon:semi;comma,at@dollar$',
  'trailing/',
];

test('special characters in keys: strict encoding as sent and signed', async () => {
  for (const key of KEYS) {
    const path = '/bucket/' + strictPath(key);
    const headers = await signHeaders({ method: 'GET', path });
    const r = await authenticate(input('GET', path, headers), lookup, opts);
    assert.equal(r.accessKeyId, CREDS.accessKeyId, key);
  }
});

test('special characters in keys: clients that encode differently from what they sign', async () => {
  // [signed path, path on the wire]
  const cases: [string, string][] = [
    ["/bucket/a%21b%2Ac%27d%28e%29", "/bucket/a!b*c'd(e)"], // signed strict, sent raw
    ["/bucket/a!b*c'd(e)", "/bucket/a!b*c'd(e)"], // signed and sent raw
    ['/bucket/a~b', '/bucket/a%7Eb'], // ~ escaped on the wire
    ['/bucket/a%2Bb', '/bucket/a+b'], // + raw on the wire
    ['/bucket/a%3Ab%40c', '/bucket/a:b@c'],
    ['/bucket/a%20b', '/bucket/a%20b'],
    ['/bucket/x%2Fy', '/bucket/x%2fy'], // encoded slash, lower-case hex
  ];
  for (const [signedPath, wirePath] of cases) {
    const headers = await signHeaders({ method: 'GET', path: signedPath });
    const r = await authenticate(input('GET', wirePath, headers), lookup, opts);
    assert.equal(r.accessKeyId, CREDS.accessKeyId, wirePath);
  }
});

test('no path normalization: a signature for /a/../b or //b does not authorize /b', async () => {
  for (const signedPath of ['/bucket/a/../b', '/bucket//b', '/bucket/./b']) {
    const headers = await signHeaders({ method: 'GET', path: signedPath });
    assert.equal((await authenticate(input('GET', signedPath, headers), lookup, opts)).accessKeyId, CREDS.accessKeyId);
    await assert.rejects(authenticate(input('GET', '/bucket/b', headers), lookup, opts), s3code('SignatureDoesNotMatch'), signedPath);
  }
  // Nor does a signature for /b authorize a request whose raw path only normalizes to /b.
  const plain = await signHeaders({ method: 'GET', path: '/bucket/b' });
  for (const wirePath of ['/bucket/a/../b', '/bucket//b', '/bucket/./b', '/bucket/a/%2E%2E/b']) {
    await assert.rejects(authenticate(input('GET', wirePath, plain), lookup, opts), s3code('SignatureDoesNotMatch'), wirePath);
  }
  // An encoded slash is a different path from a real one.
  const headers = await signHeaders({ method: 'GET', path: '/bucket/a%2Fb' });
  await assert.rejects(authenticate(input('GET', '/bucket/a/b', headers), lookup, opts), s3code('SignatureDoesNotMatch'));
});

test('query parameters: encoding variants, value-less parameters, ordering', async () => {
  const query = { 'list-type': '2', prefix: 'dir/a b+c~ü', delimiter: '/', 'start-after': "x!*'()" };
  const headers = await signHeaders({ method: 'GET', path: '/bucket', query });
  // Strict encoding, reordered on the wire.
  const strict = queryString({ prefix: query.prefix, delimiter: '/', 'start-after': query['start-after'], 'list-type': '2' });
  assert.equal((await authenticate(input('GET', '/bucket?' + strict, headers), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  // Lenient client: leaves / ~ ! * ' ( ) raw and writes the space as '+'.
  const lenient = 'list-type=2&prefix=dir/a+b%2Bc~%C3%BC&delimiter=/&start-after=x!*\'()';
  assert.equal((await authenticate(input('GET', '/bucket?' + lenient, headers), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  // A different value does not verify.
  await assert.rejects(authenticate(input('GET', '/bucket?' + strict.replace('list-type=2', 'list-type=1'), headers), lookup, opts), s3code('SignatureDoesNotMatch'));

  const uploads = await signHeaders({ method: 'POST', path: '/bucket/k', query: { uploads: '' }, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  for (const q of ['uploads', 'uploads=']) {
    assert.equal((await authenticate(input('POST', '/bucket/k?' + q, uploads), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  }
});

test('header values: whitespace trimmed and collapsed; repeated fields joined with "," via rawHeaders', async () => {
  const headers = await signHeaders({ method: 'GET', path: '/bucket/k', headers: { 'x-amz-meta-a': 'one two', 'x-amz-meta-list': '1,2' } });
  const sent = { ...headers, 'x-amz-meta-a': '  one    two ', 'x-amz-meta-list': '1, 2' }; // what Node makes of two fields
  const rawHeaders = Object.entries({ ...sent, 'x-amz-meta-list': undefined }).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
  rawHeaders.push('X-Amz-Meta-List', '1', 'x-amz-meta-list', ' 2');
  const withRaw = { ...input('GET', '/bucket/k', sent), rawHeaders };
  assert.equal((await authenticate(withRaw, lookup, opts)).accessKeyId, CREDS.accessKeyId);
  // Without rawHeaders Node's ', ' join cannot be told apart from a single value and does not verify.
  await assert.rejects(authenticate(input('GET', '/bucket/k', sent), lookup, opts), s3code('SignatureDoesNotMatch'));
});

test('Date header instead of x-amz-date (hand-built signature per the spec)', async () => {
  const date = new Date(NOW + 60_000);
  const httpDate = date.toUTCString();
  const amzDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const canonical = ['GET', '/bucket/k', '', `date:${httpDate}`, `host:${HOST}`, `x-amz-content-sha256:${EMPTY_SHA256}`, '', 'date;host;x-amz-content-sha256', EMPTY_SHA256].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const sig = hmacHex(signingKey(CREDS.secretAccessKey, amzDate.slice(0, 8)), sts);
  const headers = {
    host: HOST,
    date: httpDate,
    'x-amz-content-sha256': EMPTY_SHA256,
    authorization: `AWS4-HMAC-SHA256 Credential=${CREDS.accessKeyId}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`,
  };
  assert.equal((await authenticate(input('GET', '/bucket/k', headers), lookup, opts)).accessKeyId, CREDS.accessKeyId);
  await assert.rejects(authenticate(input('GET', '/bucket/k', { ...headers, date: new Date(NOW + 120_000).toUTCString() }), lookup, opts), s3code('SignatureDoesNotMatch'));
});

test('anonymous requests: no credentials, body passed through', async () => {
  const body = Buffer.from('public data');
  const r = await authenticate(input('PUT', '/bucket/k', { host: HOST, 'content-length': String(body.length) }, body), lookup, opts);
  assert.equal(r.accessKeyId, null);
  assert.equal(r.contentLength, body.length);
  assert.deepEqual(await collect(r.body), body);
  // An anonymous request cannot claim signed chunks.
  await assert.rejects(
    authenticate(input('PUT', '/bucket/k', { host: HOST, 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }), lookup, opts),
    s3code('InvalidRequest'),
  );
});
