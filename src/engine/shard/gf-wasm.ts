// A WebAssembly SIMD kernel for GF(2^8) dot products, assembled here byte by byte (no toolchain).
//
// dot(desc, n, out, len): for every 16-byte lane group i < len,
//   out[i..i+16] = XOR over j < n of  c_j * src_j[i..i+16]
// where record j of `desc` (48 bytes) is: u32 src_j pointer, 12 bytes unused, then the two 16-byte
// nibble tables of the coefficient c_j: lo[x] = c_j * x and hi[x] = c_j * (x << 4). A product is
// lo[v & 15] ^ hi[v >> 4], two i8x16.swizzle lookups per 16 bytes (the PSHUFB method).
// `len` must be a multiple of 16.

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

function dotBody(): number[] {
  // params: 0 desc, 1 n, 2 out, 3 len; locals: 4 i, 5 j, 6 rec, 7 acc(v128), 8 v(v128), 9 mask(v128)
  // 10 acc2, 11 v2 (second 16-byte group, unrolled x2: len must be a multiple of 32 -- caller pads)
  const code: number[] = [
    ...v128const(new Array(16).fill(0x0f)), ...set(9),
    ...i32c(0), ...set(4),
    ...BLOCK, ...LOOP,
    //   if !(i < len) break
    ...get(4), ...get(3), ...LT_U, ...EQZ, ...brIf(1),
    ...v128const(new Array(16).fill(0)), ...set(7),
    ...v128const(new Array(16).fill(0)), ...set(10),
    ...get(0), ...set(6),
    ...i32c(0), ...set(5),
    ...BLOCK, ...LOOP,
    //     if !(j < n) break
    ...get(5), ...get(1), ...LT_U, ...EQZ, ...brIf(1),
    //     v = load(src + i); v2 = load(src + i + 16)
    ...get(6), ...i32load(0), ...get(4), ...ADD, ...set(11),
    ...get(11), ...v128load(0), ...set(8),
    //     acc ^= swizzle(lo, v & 15) ^ swizzle(hi, v >> 4)
    ...get(7),
    ...get(6), ...v128load(16), ...get(8), ...get(9), ...AND, ...SWIZZLE, ...XOR,
    ...get(6), ...v128load(32), ...get(8), ...i32c(4), ...SHR_U8, ...SWIZZLE, ...XOR,
    ...set(7),
    ...get(11), ...v128load(16), ...set(8),
    ...get(10),
    ...get(6), ...v128load(16), ...get(8), ...get(9), ...AND, ...SWIZZLE, ...XOR,
    ...get(6), ...v128load(32), ...get(8), ...i32c(4), ...SHR_U8, ...SWIZZLE, ...XOR,
    ...set(10),
    //     rec += 48; j++
    ...get(6), ...i32c(48), ...ADD, ...set(6),
    ...get(5), ...i32c(1), ...ADD, ...set(5),
    ...br(0),
    ...END, ...END,
    //   store(out + i, acc); store(out + i + 16, acc2); i += 32
    ...get(2), ...get(4), ...ADD, ...get(7), ...v128store(0),
    ...get(2), ...get(4), ...ADD, ...get(10), ...v128store(16),
    ...get(4), ...i32c(32), ...ADD, ...set(4),
    ...br(0),
    ...END, ...END,
    ...END,
  ];
  // local i32 x3 (i, j, rec), v128 x3 (acc, v, mask), v128 (acc2), i32 (p)
  const locals = vec([[3, I32], [3, V128], [1, V128], [1, I32]]);
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
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])]])),
    ...(shared ? section(2, vec([[...name('env'), ...name('memory'), 0x02, ...memoryLimits]])) : []),
    ...section(3, vec([[0]])),
    ...(shared ? [] : section(5, vec([memoryLimits]))),
    ...section(7, vec(shared ? [[...name('dot'), 0x00, 0]] : [[...name('memory'), 0x02, 0], [...name('dot'), 0x00, 0]])),
    ...section(10, vec([dotBody()])),
  ];
  return Uint8Array.from(bytes);
}

export interface WasmKernel {
  memory: WebAssembly.Memory;
  dot(desc: number, n: number, out: number, len: number): void;
}

/** A fresh instance with `pages` 64 KiB pages of memory, or undefined where WebAssembly SIMD is unavailable. */
export function instantiateKernel(pages: number): WasmKernel | undefined {
  try {
    const module = new WebAssembly.Module(moduleBytes(pages));
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as unknown as { memory: WebAssembly.Memory; dot: WasmKernel['dot'] };
    return { memory: exports.memory, dot: exports.dot };
  } catch {
    return undefined;
  }
}

/** A fresh instance over a new shared memory of `pages` pages (fixed size), or undefined where unavailable. */
export function instantiateSharedKernel(pages: number): WasmKernel | undefined {
  try {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const module = new WebAssembly.Module(moduleBytes(pages, true));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return { memory, dot: (instance.exports as unknown as { dot: WasmKernel['dot'] }).dot };
  } catch {
    return undefined;
  }
}

export { moduleBytes as wasmModuleBytes };
