// A WebAssembly SIMD kernel for GF(2^8) dot products, assembled here byte by byte (no toolchain).
//
// dotR computes R rows of products at once: for every byte i < len and row r,
//   out_r[i] = XOR over j < n of  c_rj * src_j[i]
// A product is lo[v & 15] ^ hi[v >> 4] with the two 16-byte nibble tables of the coefficient, two
// i8x16.swizzle lookups per 16 bytes (the PSHUFB method).

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

// Instructions
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = [0x6a];
const LT_U = [0x49];
const i32load = (offset: number) => [0x28, 0x02, ...uleb(offset)];
const v128load = (offset: number) => [0xfd, 0x00, 0x04, ...uleb(offset)];
const v128store = (offset: number) => [0xfd, 0x0b, 0x04, ...uleb(offset)];
const v128const = (bytes: number[]) => [0xfd, 0x0c, ...bytes];
const SWIZZLE = [0xfd, 0x0e];
const AND = [0xfd, 0x4e];
const XOR = [0xfd, 0x51];
const SHR_U8 = [0xfd, 0x6d];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const br = (d: number) => [0x0c, ...uleb(d)];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const EQZ = [0x45];
const END = [0x0b];

/** Most rows one call computes (one function per count, 1..MAX_ROWS). */
export const MAX_ROWS = 4;

/** Bytes of one source's record in the descriptor of a call for `rows` rows. */
export function recordSize(rows: number): number {
  return 16 + 32 * rows;
}

/**
 * dotR(desc, n, len, out_0 .. out_R-1): R rows at once, so each source byte is loaded and split
 * into nibbles once for all rows, and each coefficient's tables once per 32 bytes. Record j of
 * `desc` (recordSize(R) bytes): u32 src_j pointer, 12 bytes unused, then per row r the 16-byte
 * tables lo[x] = c_rj * x and hi[x] = c_rj * (x << 4). `len` must be a multiple of 32.
 */
function dotBody(rows: number): number[] {
  const stride = recordSize(rows);
  // Params: 0 desc, 1 n, 2 len, 3.. outs. Locals (i32): i, j, rec, p; (v128): mask, v, v2, lo, hi,
  // lo2, hi2, t, then acc_r and acc2_r for each row (the two 16-byte halves of a 32-byte group).
  const i = 3 + rows, j = i + 1, rec = i + 2, p = i + 3;
  const mask = i + 4, v = mask + 1, v2 = mask + 2, lo = mask + 3, hi = mask + 4, lo2 = mask + 5, hi2 = mask + 6, t = mask + 7;
  const acc = (r: number) => t + 1 + 2 * r;
  const acc2 = (r: number) => t + 2 + 2 * r;
  const zero = v128const(new Array(16).fill(0));
  const perRow: number[] = [];
  for (let r = 0; r < rows; r++) {
    perRow.push(
      ...get(rec), ...v128load(16 + 32 * r), ...set(t),
      ...get(acc(r)), ...get(t), ...get(lo), ...SWIZZLE, ...XOR, ...set(acc(r)),
      ...get(acc2(r)), ...get(t), ...get(lo2), ...SWIZZLE, ...XOR, ...set(acc2(r)),
      ...get(rec), ...v128load(32 + 32 * r), ...set(t),
      ...get(acc(r)), ...get(t), ...get(hi), ...SWIZZLE, ...XOR, ...set(acc(r)),
      ...get(acc2(r)), ...get(t), ...get(hi2), ...SWIZZLE, ...XOR, ...set(acc2(r)),
    );
  }
  const clear: number[] = [];
  const store: number[] = [];
  for (let r = 0; r < rows; r++) {
    clear.push(...zero, ...set(acc(r)), ...zero, ...set(acc2(r)));
    store.push(...get(3 + r), ...get(i), ...ADD, ...set(p), ...get(p), ...get(acc(r)), ...v128store(0), ...get(p), ...get(acc2(r)), ...v128store(16));
  }
  const code: number[] = [
    ...v128const(new Array(16).fill(0x0f)), ...set(mask),
    ...i32c(0), ...set(i),
    ...BLOCK, ...LOOP,
    //   if !(i < len) break
    ...get(i), ...get(2), ...LT_U, ...EQZ, ...brIf(1),
    ...clear,
    ...get(0), ...set(rec),
    ...i32c(0), ...set(j),
    ...BLOCK, ...LOOP,
    //     if !(j < n) break
    ...get(j), ...get(1), ...LT_U, ...EQZ, ...brIf(1),
    //     v, v2 = the 32 source bytes at src_j + i, split into low and high nibbles
    ...get(rec), ...i32load(0), ...get(i), ...ADD, ...set(p),
    ...get(p), ...v128load(0), ...set(v),
    ...get(p), ...v128load(16), ...set(v2),
    ...get(v), ...get(mask), ...AND, ...set(lo),
    ...get(v), ...i32c(4), ...SHR_U8, ...set(hi),
    ...get(v2), ...get(mask), ...AND, ...set(lo2),
    ...get(v2), ...i32c(4), ...SHR_U8, ...set(hi2),
    //     acc_r ^= lo_r[v & 15] ^ hi_r[v >> 4] for every row
    ...perRow,
    //     rec += stride; j++
    ...get(rec), ...i32c(stride), ...ADD, ...set(rec),
    ...get(j), ...i32c(1), ...ADD, ...set(j),
    ...br(0),
    ...END, ...END,
    //   store every row's 32 bytes at out_r + i; i += 32
    ...store,
    ...get(i), ...i32c(32), ...ADD, ...set(i),
    ...br(0),
    ...END, ...END,
    ...END,
  ];
  const locals = vec([[4, I32], [8 + 2 * rows, V128]]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * The module's bytes: exports `dot` and either its own `memory` (`pages` 64 KiB pages) or, with
 * `shared`, imports `env.memory`, a shared memory of exactly `pages` pages (so that other threads
 * can read the bytes in place and the memory never grows under a pending read or write).
 */
function moduleBytes(pages: number, shared = false): Uint8Array<ArrayBuffer> {
  const memoryLimits = shared ? [0x03, ...uleb(pages), ...uleb(pages)] : [0x00, ...uleb(pages)];
  const counts = Array.from({ length: MAX_ROWS }, (_, r) => r + 1);
  // With an imported memory, function indices still start at 0 (only functions are indexed here).
  const exports = counts.map((r) => [...name(`dot${r}`), 0x00, r - 1]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(counts.map((r) => [0x60, ...vec(new Array(3 + r).fill([I32])), ...vec([])]))),
    ...(shared ? section(2, vec([[...name('env'), ...name('memory'), 0x02, ...memoryLimits]])) : []),
    ...section(3, vec(counts.map((r) => [r - 1]))),
    ...(shared ? [] : section(5, vec([memoryLimits]))),
    ...section(7, vec(shared ? exports : [[...name('memory'), 0x02, 0], ...exports])),
    ...section(10, vec(counts.map((r) => dotBody(r)))),
  ];
  return Uint8Array.from(bytes);
}

export type DotFunction = (desc: number, n: number, len: number, ...outs: number[]) => void;

export interface WasmKernel {
  memory: WebAssembly.Memory;
  /** dots[R - 1] computes R rows (R = 1..MAX_ROWS). */
  dots: DotFunction[];
}

function kernelOf(instance: WebAssembly.Instance, memory: WebAssembly.Memory): WasmKernel {
  const exports = instance.exports as Record<string, DotFunction>;
  return { memory, dots: Array.from({ length: MAX_ROWS }, (_, r) => exports[`dot${r + 1}`]!) };
}

/** A fresh instance with `pages` 64 KiB pages of memory, or undefined where WebAssembly SIMD is unavailable. */
export function instantiateKernel(pages: number): WasmKernel | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(pages)), {});
    return kernelOf(instance, instance.exports.memory as WebAssembly.Memory);
  } catch {
    return undefined;
  }
}

/** A fresh instance over a new shared memory of `pages` pages (fixed size), or undefined where unavailable. */
export function instantiateSharedKernel(pages: number): WasmKernel | undefined {
  try {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    return kernelOf(new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(pages, true)), { env: { memory } }), memory);
  } catch {
    return undefined;
  }
}

export { moduleBytes as wasmModuleBytes };
