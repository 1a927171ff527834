import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DomainSet } from '../../src/engine/shard/placement.ts';
import type { FailureDomain } from '../../src/engine/shard/domain.ts';
import { nodeProfileFor } from '../../src/engine/shard/layout.ts';

// Placement: weighted by free space, distinct zones first, nothing on full, draining, quarantined
// or unreachable domains; deterministic per (stream, segment).

function fake(id: string): FailureDomain {
  return { id, address: id, kind: 'node' } as unknown as FailureDomain;
}

test('choice follows free space, prefers distinct zones, and skips domains that take no pieces', () => {
  const set = new DomainSet();
  set.reserveBytes = 100;
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  ids.forEach((id, i) => {
    set.add(fake(id), true, 'online', `z${i % 4}`);
    set.setFree(id, id === 'a' ? 4_000_000 : 1_000_000);
  });
  set.setFree('h', 50); // below the reserve: full
  set.setState('g', 'draining');
  set.setOnline('f', false);
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const streamId = randomBytes(16).toString('hex');
    const chosen = set.choose(streamId, 0, 1);
    counts.set(chosen[0]!.id, (counts.get(chosen[0]!.id) ?? 0) + 1);
    const four = set.choose(streamId, 1, 4).map((d) => d.id);
    assert.equal(new Set(four).size, 4);
    assert.ok(!four.some((id) => ['f', 'g', 'h'].includes(id)), four.join());
    // a, b, c, d, e take pieces; zones z0 (a, e), z1 (b), z2 (c), z3 (d): four zones, one each.
    assert.equal(new Set(four.map((id) => set.zoneOf(id))).size, 4, four.join());
    assert.deepEqual(set.choose(streamId, 1, 4).map((d) => d.id), four);
  }
  // a has 4x the free space of b..e: about 4/8 of single choices.
  const a = counts.get('a')! / 4000;
  assert.ok(a > 0.42 && a < 0.58, `a chosen ${a}`);
  for (const id of ['b', 'c', 'd', 'e']) assert.ok(counts.get(id)! / 4000 > 0.08, `${id}: ${counts.get(id)}`);
  // More pieces than zones: filled up from the best remaining domains.
  assert.equal(set.choose('00'.repeat(16), 0, 5).length, 5);
});

test('node profiles follow the node count', () => {
  assert.deepEqual([3, 4, 5, 6, 13, 14, 40].map((n) => nodeProfileFor(n)), [
    { k: 2, m: 1 }, { k: 2, m: 2 }, { k: 3, m: 2 }, { k: 4, m: 2 }, { k: 4, m: 2 }, { k: 10, m: 4 }, { k: 10, m: 4 },
  ]);
});
