import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bestKernel, jsKernel, ReedSolomon } from '../../src/engine/shard/reed-solomon.ts';
import { invertMatrix, mul } from '../../src/engine/shard/gf256.ts';

function combinations(n: number, r: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === r) return void out.push([...chosen]);
    for (let i = start; i < n; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}

describe('GF(2^8)', () => {
  it('multiplies like the polynomial field (spot checks) and inverts matrices', () => {
    assert.equal(mul(2, 0x80), 0x1d);
    assert.equal(mul(0, 7), 0);
    for (let a = 1; a < 256; a++) {
      const inv = invertMatrix([Uint8Array.of(a)])[0]![0]!;
      assert.equal(mul(a, inv), 1);
    }
  });
});

describe('Reed-Solomon', () => {
  it('the WebAssembly kernel is in use and computes the same bytes as the TypeScript tables', () => {
    assert.equal(bestKernel().name, 'wasm-simd');
    for (const len of [64, 96, 1000, 65536 + 64]) {
      const fast = new ReedSolomon(5, 3);
      const slow = new ReedSolomon(5, 3, jsKernel);
      const data = Array.from({ length: 5 }, () => randomBytes(len));
      const p1 = Array.from({ length: 3 }, () => Buffer.alloc(len));
      const p2 = Array.from({ length: 3 }, () => Buffer.alloc(len));
      fast.encode(data, p1, len);
      slow.encode(data, p2, len);
      assert.deepEqual(p1, p2, `len ${len}`);
    }
  });

  for (const [k, m] of [[1, 0], [1, 1], [2, 1], [2, 2], [4, 2], [5, 2], [5, 3], [8, 3], [8, 4], [12, 4]] as const) {
    it(`${k}+${m}: every combination of up to ${m} lost shards decodes to the same bytes`, () => {
      const len = 4096 + 64;
      const rs = new ReedSolomon(k, m);
      const data = Array.from({ length: k }, () => randomBytes(len));
      const parity = Array.from({ length: m }, () => Buffer.alloc(len));
      rs.encode(data, parity, len);
      const all = [...data, ...parity];
      let cases = 0;
      for (let lost = 1; lost <= m; lost++) {
        for (const gone of combinations(k + m, lost)) {
          const shards = all.map((s, i) => (gone.includes(i) ? undefined : s));
          const outs = gone.map(() => Buffer.alloc(len));
          rs.reconstruct(shards, gone, outs, len);
          gone.forEach((g, i) => assert.ok(outs[i]!.equals(all[g]!), `${k}+${m}: shard ${g} of lost [${gone}]`));
          cases++;
        }
      }
      if (m > 0) assert.ok(cases > 0);
      // One more than m lost: cannot decode.
      if (m < k + m - 1) {
        const shards = all.map((s, i) => (i <= m ? undefined : s));
        assert.throws(() => rs.reconstruct(shards, [0], [Buffer.alloc(len)], len));
      }
    });
  }
});
