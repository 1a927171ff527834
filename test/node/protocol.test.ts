import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, hash } from 'node:crypto';
import { startCluster, type Cluster } from './helpers.ts';
import { deriveClusterKey, signRequest } from '../../src/node/auth.ts';
import { RemoteDomain } from '../../src/engine/shard/remote-domain.ts';
import { encodeHeader, encodeTrailer, HEADER_SIZE, merkleRoot, pieceName, verifyMerkleProof } from '../../src/engine/shard/piece-file.ts';
import { PieceMissingError } from '../../src/engine/shard/domain.ts';

// The storage node's protocol through RemoteDomain, and its authentication.

let cluster: Cluster;
before(async () => {
  cluster = await startCluster(1);
});
after(async () => {
  await cluster?.close();
});

function piece(streamId: string, blocks: Buffer[]) {
  const hashes = blocks.map((b) => hash('sha256', b, 'buffer'));
  const root = merkleRoot(hashes);
  const header = encodeHeader({
    streamId, segment: 0, piece: 1, k: 2, m: 1, codec: 'rs-cauchy-gf256-v1', blockSize: blocks[0]!.length, stripeCount: blocks.length,
    tailBlockSize: blocks[blocks.length - 1]!.length, segmentPlainSize: 1, segmentCipherSize: 1,
    pieceDataSize: blocks.reduce((n, b) => n + b.length, 0), createdAt: Date.now(), merkleRoot: root, kekId: 'k', wrappedKey: Buffer.alloc(60),
  });
  return { header, trailer: encodeTrailer(hashes), root, hashes };
}

test('put, read ranges, stat, list, audit, verify, trash, delete through RemoteDomain', async () => {
  const node = cluster.nodes[0]!;
  const d = new RemoteDomain(node.id, node.url, { key: deriveClusterKey(Buffer.from(cluster.secret)) });
  assert.equal(await d.healthy(), true);
  const streamId = randomBytes(16).toString('hex');
  const name = pieceName(streamId, 0, 1);
  const blocks = [randomBytes(4096), randomBytes(4096), randomBytes(1024)];
  const p = piece(streamId, blocks);
  const w = await d.create(name);
  for (const b of blocks) await w.write(b);
  await w.write(p.trailer);
  await w.commit(p.header);
  const h = await d.open(name);
  assert.deepEqual(await h.read(HEADER_SIZE + 4096, 4096), blocks[1]);
  assert.deepEqual(await h.read(HEADER_SIZE + 100, 10), blocks[0]!.subarray(100, 110));
  assert.deepEqual(await h.read(0, HEADER_SIZE), p.header);
  await assert.rejects(h.read(HEADER_SIZE + 9000, 5000));
  const st = await d.stat(name);
  assert.equal(st?.size, HEADER_SIZE + 9216 + p.trailer.length);
  const names = [];
  for await (const i of d.list()) names.push(i.name);
  assert.deepEqual(names, [name]);
  for (let leaf = 0; leaf < 3; leaf++) {
    const a = await d.audit(name, leaf);
    assert.deepEqual(a.block, blocks[leaf]);
    assert.equal(verifyMerkleProof(hash('sha256', a.block, 'buffer'), leaf, 3, a.proof, p.root), true);
    assert.equal(verifyMerkleProof(hash('sha256', a.block, 'buffer'), (leaf + 1) % 3, 3, a.proof, p.root), false);
  }
  assert.deepEqual(await d.verify(name), { ok: true, blocks: 3, badBlocks: [] });
  const info = await d.info();
  assert.equal(info.pieces, 1);
  await d.trash(name);
  assert.equal(await d.stat(name), undefined);
  assert.deepEqual(await (await d.open(name)).read(HEADER_SIZE, 4096), blocks[0]);
  await d.delete(name);
  await assert.rejects((await d.open(name)).read(HEADER_SIZE, 10), PieceMissingError);
  await assert.rejects(d.audit(name, 0), PieceMissingError);
  d.destroy();
});

test('a write cut short or with a header naming another piece is never published', async () => {
  const node = cluster.nodes[0]!;
  const d = new RemoteDomain(node.id, node.url, { key: deriveClusterKey(Buffer.from(cluster.secret)) });
  const streamId = randomBytes(16).toString('hex');
  const blocks = [randomBytes(4096)];
  const p = piece(streamId, blocks);
  const w = await d.create(pieceName(streamId, 0, 1));
  await w.write(blocks[0]!);
  await w.abort();
  const w2 = await d.create(pieceName(streamId, 0, 2));
  await w2.write(blocks[0]!);
  await w2.write(p.trailer);
  await assert.rejects(w2.commit(p.header), /400/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await d.stat(pieceName(streamId, 0, 1)), undefined);
  assert.equal(await d.stat(pieceName(streamId, 0, 2)), undefined);
  d.destroy();
});

test('a request without the cluster secret, with another secret, or replayed is refused', async () => {
  const node = cluster.nodes[0]!;
  // No signature at all.
  let res = await fetch(`${node.url}/v1/info`);
  assert.equal(res.status, 401);
  assert.doesNotMatch(await res.text(), /free|pieces/);
  // Signed with the wrong secret.
  const wrong = deriveClusterKey(Buffer.from('not the cluster secret at all'));
  res = await fetch(`${node.url}/v1/info`, { headers: signRequest(wrong, 'GET', '/v1/info') });
  assert.equal(res.status, 401);
  // A good request works once; the same bytes again are refused.
  const key = deriveClusterKey(Buffer.from(cluster.secret));
  const headers = signRequest(key, 'GET', '/v1/info');
  res = await fetch(`${node.url}/v1/info`, { headers });
  assert.equal(res.status, 200);
  res = await fetch(`${node.url}/v1/info`, { headers });
  assert.equal(res.status, 401);
  assert.match(await res.text(), /replayed/);
  // A signature for one path does not open another, and an old request is refused.
  res = await fetch(`${node.url}/v1/pieces`, { headers: signRequest(key, 'GET', '/v1/info') });
  assert.equal(res.status, 401);
  res = await fetch(`${node.url}/v1/info`, { headers: signRequest(key, 'GET', '/v1/info', '', Date.now() - 10 * 60_000) });
  assert.equal(res.status, 401);
  // A gateway with the wrong secret cannot use the node (and sees it as unhealthy).
  const d = new RemoteDomain(node.id, node.url, { key: wrong });
  assert.equal(await d.healthy(), false);
  d.destroy();
});
