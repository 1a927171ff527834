import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ChunkedDecoder, type ChunkedDecoderOptions } from '../../src/auth/chunked-decoder.ts';
import { chunkSignature, crc32Base64, signedChunked, unsignedChunked, type ChunkSigner } from './chunked-helpers.ts';
import { collect, collectError, pieces, s3code, signingKey, REGION, CREDS } from './helpers.ts';

const signer: ChunkSigner = {
  key: signingKey(CREDS.secretAccessKey, '20250115'),
  amzDate: '20250115T120000Z',
  scope: `20250115/${REGION}/s3/aws4_request`,
  seed: 'a'.repeat(64),
};
const signing = { signingKey: signer.key, amzDate: signer.amzDate, scope: signer.scope, seedSignature: signer.seed };

function decode(body: Buffer | Buffer[], options: Partial<ChunkedDecoderOptions> = {}): ChunkedDecoder {
  const d = new ChunkedDecoder({ trailer: false, ...options });
  Readable.from(Array.isArray(body) ? body : [body]).pipe(d);
  return d;
}

const data = [Buffer.alloc(300, 'x'), Buffer.from('second chunk'), Buffer.alloc(7, 0xff)];
const joined = Buffer.concat(data);

test('signed chunks decode, whatever the read boundaries', { timeout: 10_000 }, async () => {
  const body = signedChunked(signer, data);
  for (const size of [1, 2, 3, 7, 64, 100000]) {
    const out = await collect(decode(pieces(body, size), { signing, decodedLength: joined.length }));
    assert.deepEqual(out, joined, `pieces of ${size}`);
  }
});

test('AWS documentation streaming example (64 KiB + 1 KiB chunks) verifies', { timeout: 10_000 }, async () => {
  const docSigning = {
    signingKey: signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1'),
    amzDate: '20130524T000000Z',
    scope: '20130524/us-east-1/s3/aws4_request',
    seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  };
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
  assert.equal(body.length, 66824);
  const out = await collect(decode(pieces(body, 4096), { signing: docSigning, decodedLength: 66560 }));
  assert.equal(out.length, 66560);
});

test('tampered chunk data, swapped signatures, reordered chunks -> SignatureDoesNotMatch', { timeout: 10_000 }, async () => {
  const body = signedChunked(signer, data);
  const tampered = Buffer.from(body);
  tampered[tampered.indexOf('second') + 2] ^= 1;
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(tampered, { signing }))));

  const reordered = signedChunked({ ...signer }, [data[1]!, data[0]!, data[2]!]);
  // Same chunks signed in another order with the right chain verify; splicing chunks across bodies does not.
  const a = signedChunked(signer, [data[0]!, data[1]!]);
  const b = signedChunked(signer, [data[1]!, data[0]!]);
  const spliced = Buffer.concat([a.subarray(0, a.indexOf('\r\n', 100) + 2), b.subarray(b.indexOf('\r\n', b.indexOf('second')) + 2)]);
  assert.deepEqual(await collect(decode(reordered, { signing })), Buffer.concat([data[1]!, data[0]!, data[2]!]));
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(spliced, { signing }))));

  const wrongSeed = { ...signing, seedSignature: 'b'.repeat(64) };
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(body, { signing: wrongSeed }))));
  const noSig = Buffer.from(`${(5).toString(16)}\r\nhello\r\n0\r\n\r\n`);
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(noSig, { signing }))));
});

test('every truncation fails (or, past the last chunk, yields the whole payload)', { timeout: 10_000 }, async () => {
  const body = signedChunked(signer, data);
  const lastChunkLineEnd = body.length - 2; // only the whole closing CRLF may be missing
  for (let cut = 0; cut < body.length; cut++) {
    const d = decode(body.subarray(0, cut), { signing, decodedLength: joined.length });
    const err = await collectError(d);
    if (cut === lastChunkLineEnd) {
      assert.equal(err, undefined, `cut at ${cut}`);
    } else {
      assert.ok(err, `cut at ${cut} must fail`);
      assert.ok(['IncompleteBody', 'InvalidRequest', 'SignatureDoesNotMatch'].includes((err as any).code), `cut ${cut}: ${(err as any).code}`);
    }
  }
});

test('bad framing fails with an S3Error', { timeout: 10_000 }, async () => {
  const sig = chunkSignature(signer, signer.seed, Buffer.from('hello'));
  const cases: [string, Buffer | string][] = [
    ['non-hex size', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['empty size', '\r\nhello\r\n0\r\n\r\n'],
    ['bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['no CRLF after data', '5\r\nhelloXX0\r\n\r\n'],
    ['size larger than data, then garbage', '6\r\nhello\r\n0\r\n\r\n'],
    ['huge size', 'ffffffffffffffff\r\n'],
    ['size line too long', '5;' + 'x'.repeat(10000) + '\r\nhello\r\n0\r\n\r\n'],
    ['data after the end', '5\r\nhello\r\n0\r\n\r\nmore'],
    ['trailer when none expected', '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'],
    ['binary garbage', Buffer.from([0, 1, 2, 255, 13, 10, 13, 10])],
  ];
  for (const [name, body] of cases) {
    const err = await collectError(decode(Buffer.from(body)));
    assert.ok(err && ['InvalidRequest', 'IncompleteBody'].includes((err as any).code), `${name}: ${(err as any)?.code}`);
  }
  // The same with signatures on.
  const err = await collectError(decode(Buffer.from(`5;chunk-signature=${sig}\r\nhelloX\r\n`), { signing }));
  assert.ok(err && (err as any).code, 'signed: no CRLF after data');
});

test('chunk size cap', { timeout: 10_000 }, async () => {
  const body = unsignedChunked([Buffer.alloc(2048)], []);
  assert.ok(s3code('InvalidRequest', /exceeds/)(await collectError(decode(body, { trailer: true, maxChunkSize: 1024 }))));
  assert.equal((await collect(decode(body, { trailer: true, maxChunkSize: 2048 }))).length, 2048);
});

test('x-amz-decoded-content-length must match', { timeout: 10_000 }, async () => {
  const body = signedChunked(signer, data);
  assert.ok(s3code('IncompleteBody')(await collectError(decode(body, { signing, decodedLength: joined.length + 1 }))));
  assert.ok(s3code('IncompleteBody')(await collectError(decode(body, { signing, decodedLength: joined.length - 1 }))));
});

test('unsigned trailer (crc32): trailers are filled before end', { timeout: 10_000 }, async () => {
  const crc = crc32Base64(joined);
  const body = unsignedChunked(data, [['x-amz-checksum-crc32', crc]]);
  const trailers = new Map<string, string>();
  const d = decode(pieces(body, 5), { trailer: true, declaredTrailers: ['x-amz-checksum-crc32'], trailers, decodedLength: joined.length });
  let atEnd: string | undefined;
  d.on('end', () => (atEnd = trailers.get('x-amz-checksum-crc32')));
  assert.deepEqual(await collect(d), joined);
  assert.equal(atEnd, crc);

  // A declared trailer that never comes fails the stream.
  const missing = unsignedChunked(data, []);
  assert.ok(s3code('InvalidRequest', /x-amz-checksum-crc32/)(await collectError(decode(missing, { trailer: true, declaredTrailers: ['x-amz-checksum-crc32'] }))));
  // The SDK writes `0\r\n` alone when it has no checksum to send.
  assert.deepEqual(await collect(decode(Buffer.from('5\r\nhello\r\n0\r\n'), { trailer: true })), Buffer.from('hello'));
});

test('signed trailer: good, tampered value, missing signature', { timeout: 10_000 }, async () => {
  const crc = crc32Base64(joined);
  const body = signedChunked(signer, data, [['x-amz-checksum-crc32', crc]]);
  const trailers = new Map<string, string>();
  assert.deepEqual(await collect(decode(pieces(body, 11), { signing, trailer: true, trailers, declaredTrailers: ['x-amz-checksum-crc32'] })), joined);
  assert.equal(trailers.get('x-amz-checksum-crc32'), crc);

  const tampered = Buffer.from(body.toString('latin1').replace(crc, 'AAAAAA=='), 'latin1');
  const t2 = new Map<string, string>();
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(tampered, { signing, trailer: true, trailers: t2 }))));
  assert.equal(t2.size, 0, 'unverified trailers are not published');

  const unsignedTrailer = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
  assert.ok(s3code('SignatureDoesNotMatch')(await collectError(decode(unsignedTrailer, { signing, trailer: true }))));
});

test('streams a chunk through before it is complete (bounded memory)', { timeout: 10_000 }, async () => {
  const size = 4 * 1024 * 1024;
  const d = new ChunkedDecoder({ trailer: true });
  let seen = 0;
  d.on('data', (b: Buffer) => (seen += b.length));
  d.write(Buffer.from(`${size.toString(16)}\r\n`));
  d.write(Buffer.alloc(1024 * 1024));
  await new Promise((r) => setImmediate(r));
  assert.equal(seen, 1024 * 1024, 'data of a partial chunk is passed on');
  d.write(Buffer.alloc(size - 1024 * 1024));
  d.end(Buffer.from('\r\n0\r\n\r\n'));
  await new Promise((r) => d.on('end', r));
  assert.equal(seen, size);
});
