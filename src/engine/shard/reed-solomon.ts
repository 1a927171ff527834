// Systematic Reed-Solomon over GF(2^8): k data shards pass through unchanged, m parity shards are
// rows of a Cauchy matrix (parity i, data j: 1 / (x_i + y_j) with x_i = k + i, y_j = j). Every
// square submatrix of a Cauchy matrix is invertible, so any k of the k+m shards recover the rest.
// The byte-wise products run in a WebAssembly SIMD kernel (gf-wasm.ts), with a table-driven
// TypeScript fallback that computes the same bytes.

import { instantiateKernel, instantiateSharedKernel, MAX_ROWS, recordSize, type WasmKernel } from './gf-wasm.ts';
import { inv, invertMatrix, mul, MUL_TABLES } from './gf256.ts';

/** Codec id stored with every segment: this matrix, this field, this byte layout. */
export const CODEC_ID = 'rs-cauchy-gf256-v1';

/** Largest total shard count: x and y values must be distinct field elements. */
export const MAX_SHARDS = 255;

/** Computes out[r] = XOR_j rows[r][j] * sources[j] over `len` bytes. */
export interface GfKernel {
  readonly name: string;
  multiply(rows: readonly (readonly number[])[], sources: readonly Uint8Array[], outs: readonly Uint8Array[], len: number): void;
}

/** Plain TypeScript: one 256-byte product table per coefficient. */
export const jsKernel: GfKernel = {
  name: 'js-tables',
  multiply(rows, sources, outs, len) {
    const T = MUL_TABLES;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const out = outs[r]!;
      out.fill(0, 0, len);
      for (let j = 0; j < row.length; j++) {
        const c = row[j]!;
        if (c === 0) continue;
        const src = sources[j]!;
        if (c === 1) {
          for (let i = 0; i < len; i++) out[i]! ^= src[i]!;
          continue;
        }
        const base = c * 256;
        for (let i = 0; i < len; i++) out[i]! ^= T[base + src[i]!]!;
      }
    }
  },
};

const PAGE = 65536;

/** Bytes of the descriptor of one kernel call over `n` sources. */
function descriptorSize(n: number): number {
  return Math.ceil((n * recordSize(MAX_ROWS)) / 64) * 64;
}

/**
 * out[r] = XOR_j rows[r][j] * src[j] over `len` bytes (a multiple of 32), sources and outputs given
 * as offsets into the kernel's memory: rows go MAX_ROWS to a call, their descriptor written at `desc`.
 */
function runRows(kernel: WasmKernel, mem: Uint8Array, view: DataView, desc: number, rows: readonly (readonly number[])[], srcs: readonly number[], outs: readonly number[], len: number): void {
  const n = srcs.length;
  for (let first = 0; first < rows.length; first += MAX_ROWS) {
    const count = Math.min(MAX_ROWS, rows.length - first);
    const stride = recordSize(count);
    for (let j = 0; j < n; j++) {
      const rec = desc + j * stride;
      view.setUint32(rec, srcs[j]!, true);
      for (let r = 0; r < count; r++) {
        // The coefficient's nibble tables: lo[x] = c * x, hi[x] = c * (x << 4).
        const at = rec + 16 + 32 * r;
        const c = rows[first + r]![j]! * 256;
        for (let x = 0; x < 16; x++) {
          mem[at + x] = MUL_TABLES[c + x]!;
          mem[at + 16 + x] = MUL_TABLES[c + (x << 4)]!;
        }
      }
    }
    kernel.dots[count - 1]!(desc, n, len, ...outs.slice(first, first + count));
  }
}

/** The WebAssembly SIMD kernel: copies sources into its memory, runs the rows (up to MAX_ROWS per call), copies results out. */
class WasmGfKernel implements GfKernel {
  readonly name = 'wasm-simd';
  private kernel: WasmKernel;
  private bytes: Uint8Array;
  private view: DataView;

  constructor(kernel: WasmKernel) {
    this.kernel = kernel;
    this.bytes = new Uint8Array(kernel.memory.buffer);
    this.view = new DataView(kernel.memory.buffer);
  }

  private ensure(size: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (size <= have) return;
    this.kernel.memory.grow(Math.ceil((size - have) / PAGE));
    this.bytes = new Uint8Array(this.kernel.memory.buffer);
    this.view = new DataView(this.kernel.memory.buffer);
  }

  multiply(rows: readonly (readonly number[])[], sources: readonly Uint8Array[], outs: readonly Uint8Array[], len: number): void {
    if (len === 0 || rows.length === 0) return;
    const padded = Math.ceil(len / 32) * 32;
    const n = sources.length;
    const srcBase = descriptorSize(n);
    const outBase = srcBase + n * padded;
    this.ensure(outBase + rows.length * padded);
    const mem = this.bytes;
    const srcs: number[] = [];
    for (let j = 0; j < n; j++) {
      const at = srcBase + j * padded;
      mem.set(sources[j]!.subarray(0, len), at);
      if (padded > len) mem.fill(0, at + len, at + padded);
      srcs.push(at);
    }
    const outAt = rows.map((_, r) => outBase + r * padded);
    runRows(this.kernel, mem, this.view, 0, rows, srcs, outAt, padded);
    outAt.forEach((at, r) => outs[r]!.set(mem.subarray(at, at + len)));
  }
}

/**
 * Fixed-size shared memory to decode in place: callers read source blocks into it, the codec
 * writes rebuilt blocks into it, and callers write them out from it, with no copy in or out. It is
 * a SharedArrayBuffer, so hashing threads can read the blocks where they lie; it never grows, so a
 * pending read or write into it stays valid. Below `base` lie the kernel's tables.
 */
export class CodecArena {
  readonly buffer: SharedArrayBuffer;
  /** First byte callers may use. */
  readonly base: number;
  /** The kernel that multiplies here. */
  readonly kernel: 'wasm-simd' | 'js-tables';
  private readonly mem: Uint8Array;
  private readonly dv: DataView;
  private readonly wasm: WasmKernel | undefined;
  private readonly scratch: number;

  /** `bytes` usable bytes for products of up to `maxRows` rows over `width` sources. */
  constructor(bytes: number, width: number, maxRows: number, useWasm: boolean) {
    const desc = descriptorSize(width);
    this.scratch = desc;
    // Scratch: one 32-byte group per source and per row, for the last len % 32 bytes.
    this.base = Math.ceil((desc + (width + maxRows) * 32) / 4096) * 4096;
    const wasm = useWasm ? instantiateSharedKernel(Math.ceil((this.base + bytes) / PAGE)) : undefined;
    this.wasm = wasm;
    this.kernel = wasm ? 'wasm-simd' : 'js-tables';
    this.buffer = wasm ? (wasm.memory.buffer as unknown as SharedArrayBuffer) : new SharedArrayBuffer(this.base + bytes);
    this.mem = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  /** A Buffer over [offset, offset + length) of the arena (no copy). */
  bytes(offset: number, length: number): Buffer {
    return Buffer.from(this.buffer, offset, length);
  }

  /** out[r] = XOR_j rows[r][j] * src[j] over `len` bytes, all given as offsets into the arena. */
  multiply(rows: readonly (readonly number[])[], srcs: readonly number[], outs: readonly number[], len: number): void {
    const n = srcs.length;
    if (len === 0 || rows.length === 0) return;
    if (!this.wasm) {
      jsKernel.multiply(rows, srcs.map((s) => this.mem.subarray(s, s + len)), outs.map((o) => this.mem.subarray(o, o + len)), len);
      return;
    }
    const mem = this.mem;
    // The kernel works in 32-byte groups: the whole groups in place, the rest through the scratch rows.
    const main = len & ~31;
    const rest = len - main;
    if (main > 0) runRows(this.wasm, mem, this.dv, 0, rows, srcs, outs, main);
    if (rest > 0) {
      const at = (i: number) => this.scratch + i * 32;
      for (let j = 0; j < n; j++) {
        mem.copyWithin(at(j), srcs[j]! + main, srcs[j]! + len);
        mem.fill(0, at(j) + rest, at(j) + 32);
      }
      const scratchOuts = rows.map((_, r) => at(n + r));
      runRows(this.wasm, mem, this.dv, 0, rows, srcs.map((_, j) => at(j)), scratchOuts, 32);
      scratchOuts.forEach((o, r) => mem.copyWithin(outs[r]! + main, o, o + rest));
    }
  }
}

let defaultKernel: GfKernel | undefined;

/** The fastest kernel available here (WebAssembly SIMD, else TypeScript tables). */
export function bestKernel(): GfKernel {
  if (!defaultKernel) {
    const wasm = instantiateKernel(80);
    defaultKernel = wasm ? new WasmGfKernel(wasm) : jsKernel;
  }
  return defaultKernel;
}

export class ReedSolomon {
  readonly k: number;
  readonly m: number;
  private readonly parityRows: number[][];
  private readonly kernel: GfKernel;
  private readonly decodeCache = new Map<string, number[][]>();

  constructor(k: number, m: number, kernel: GfKernel = bestKernel()) {
    if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 0 || k + m > MAX_SHARDS) {
      throw new RangeError(`invalid Reed-Solomon profile ${k}+${m}`);
    }
    this.k = k;
    this.m = m;
    this.kernel = kernel;
    this.parityRows = [];
    for (let i = 0; i < m; i++) {
      const row: number[] = [];
      for (let j = 0; j < k; j++) row.push(inv((k + i) ^ j));
      this.parityRows.push(row);
    }
  }

  /** The generator row of shard `index` (over the k data shards). */
  private row(index: number): number[] {
    if (index < this.k) {
      const row = new Array<number>(this.k).fill(0);
      row[index] = 1;
      return row;
    }
    return this.parityRows[index - this.k]!;
  }

  /** Computes the m parity shards of `len` bytes from the k data shards. */
  encode(data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): void {
    if (data.length !== this.k || parity.length !== this.m) throw new RangeError('shard count does not match the profile');
    if (this.m === 0) return;
    this.kernel.multiply(this.parityRows, data, parity, len);
  }

  /**
   * Rebuilds shards `targets` (any indices, data or parity) from `shards`, where at least k entries
   * are present (undefined = missing); writes each into the same position of `outs`.
   * Throws if fewer than k shards are present.
   */
  reconstruct(shards: readonly (Uint8Array | undefined)[], targets: readonly number[], outs: readonly Uint8Array[], len: number): void {
    if (targets.length === 0) return;
    const sources = this.pickSources((i) => shards[i] !== undefined, shards.length);
    this.kernel.multiply(this.decodeRows(sources, targets), sources.map((s) => shards[s]!), outs, len);
  }

  /** An arena to decode in place (reconstructAt) with `bytes` usable bytes. */
  createArena(bytes: number): CodecArena {
    return new CodecArena(bytes, this.k, Math.max(1, this.m), this.kernel !== jsKernel);
  }

  /**
   * reconstruct() in an arena: `offsets[i]` is where shard i's `len` bytes lie (undefined =
   * missing), and target t's rebuilt bytes go to `outOffsets` at t's position in `targets`.
   */
  reconstructAt(arena: CodecArena, offsets: readonly (number | undefined)[], targets: readonly number[], outOffsets: readonly number[], len: number): void {
    if (targets.length === 0) return;
    if (targets.length > Math.max(1, this.m)) throw new RangeError(`cannot rebuild ${targets.length} shards of a ${this.k}+${this.m} profile at once`);
    const sources = this.pickSources((i) => offsets[i] !== undefined, offsets.length);
    arena.multiply(this.decodeRows(sources, targets), sources.map((s) => offsets[s]!), outOffsets, len);
  }

  /** The first k present shard indices; throws if fewer than k are present. */
  private pickSources(present: (i: number) => boolean, count: number): number[] {
    const sources: number[] = [];
    for (let i = 0; i < count && sources.length < this.k; i++) if (present(i)) sources.push(i);
    if (sources.length < this.k) throw new Error(`only ${sources.length} of the ${this.k} shards needed to decode`);
    return sources;
  }

  /** Rows over `sources` that give `targets` (cached per combination). */
  private decodeRows(sources: readonly number[], targets: readonly number[]): number[][] {
    const key = `${sources.join(',')}>${targets.join(',')}`;
    let rows = this.decodeCache.get(key);
    if (!rows) {
      // D maps the source shards back to the data shards; target t's row over the sources is G[t] x D.
      const d = invertMatrix(sources.map((s) => Uint8Array.from(this.row(s))));
      rows = targets.map((t) => {
        const g = this.row(t);
        const out = new Array<number>(this.k).fill(0);
        for (let c = 0; c < this.k; c++) {
          let v = 0;
          for (let x = 0; x < this.k; x++) v ^= mul(g[x]!, d[x]![c]!);
          out[c] = v;
        }
        return out;
      });
      if (this.decodeCache.size > 256) this.decodeCache.clear();
      this.decodeCache.set(key, rows);
    }
    return rows;
  }
}
