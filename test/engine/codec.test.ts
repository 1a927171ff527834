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
    // 1 to 9 parity rows: the kernel runs up to 4 rows per call.
    for (const [k, m] of [[5, 1], [5, 3], [10, 6], [20, 9]] as const) {
      for (const len of [64, 96, 1000, 65536 + 64]) {
        const fast = new ReedSolomon(k, m);
        const slow = new ReedSolomon(k, m, jsKernel);
        const data = Array.from({ length: k }, () => randomBytes(len));
        const p1 = Array.from({ length: m }, () => Buffer.alloc(len));
        const p2 = Array.from({ length: m }, () => Buffer.alloc(len));
        fast.encode(data, p1, len);
        slow.encode(data, p2, len);
        assert.deepEqual(p1, p2, `${k}+${m}, len ${len}`);
      }
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

describe('Reed-Solomon in an arena (decoding in place)', () => {
  const cases: Array<[number, number, number[][]]> = [[4, 2, [[0], [5], [1, 3], [2, 4]]], [8, 5, [[0, 2, 4, 9, 12], [1, 8, 10]]]];
  for (const kernel of [undefined, jsKernel]) {
    it(`rebuilds the same bytes as encode() and touches nothing outside the targets (${kernel ? 'TypeScript' : 'WebAssembly'})`, () => {
      for (const [k, m, losses] of cases) {
        const rs = new ReedSolomon(k, m, kernel);
        for (const len of [64, 100, 4096 + 64, 65536 + 31]) {
          const region = len + 64;
          const arena = rs.createArena((k + m) * region);
          assert.ok(arena.buffer instanceof SharedArrayBuffer);
          assert.equal(arena.kernel, kernel ? 'js-tables' : 'wasm-simd');
          const data = Array.from({ length: k }, () => randomBytes(len));
          const parity = Array.from({ length: m }, () => Buffer.alloc(len));
          rs.encode(data, parity, len);
          const all = [...data, ...parity];
          for (const gone of losses) {
            const whole = arena.bytes(arena.base, (k + m) * region);
            whole.fill(0xee);
            const at = (i: number) => arena.base + i * region;
            all.forEach((s, i) => !gone.includes(i) && arena.bytes(at(i), len).set(s));
            const before = Buffer.from(whole);
            const offsets = all.map((_, i) => (gone.includes(i) ? undefined : at(i)));
            rs.reconstructAt(arena, offsets, gone, gone.map(at), len);
            for (const g of gone) assert.ok(arena.bytes(at(g), len).equals(all[g]!), `${k}+${m}, len ${len}: shard ${g} of lost [${gone}]`);
            // Everything but the rebuilt bytes is as it was (the kernel's 32-byte groups do not spill).
            for (const g of gone) before.set(all[g]!, at(g) - arena.base);
            assert.ok(whole.equals(before), `${k}+${m}, len ${len}: bytes outside the targets changed`);
          }
        }
      }
    });
  }
});
