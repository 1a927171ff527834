// Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator 2.

const POLY = 0x11d;

export const EXP = new Uint8Array(512);
export const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= POLY;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function inv(a: number): number {
  if (a === 0) throw new RangeError('GF(256): 0 has no inverse');
  return EXP[255 - LOG[a]!]!;
}

/** MUL_TABLES[c * 256 + x] = c * x: 64 KiB, every coefficient's row of products. */
export const MUL_TABLES = new Uint8Array(256 * 256);
for (let c = 0; c < 256; c++) for (let x = 0; x < 256; x++) MUL_TABLES[c * 256 + x] = mul(c, x);

/** The 256-byte row of products c * x. */
export function mulTable(c: number): Uint8Array {
  return MUL_TABLES.subarray(c * 256, c * 256 + 256);
}

/** Inverts a square matrix (rows of length n) by Gauss-Jordan elimination; throws if singular. */
export function invertMatrix(matrix: readonly Uint8Array[]): Uint8Array[] {
  const n = matrix.length;
  const a = matrix.map((row) => Uint8Array.from(row));
  const out = Array.from({ length: n }, (_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot]![col] === 0) pivot++;
    if (pivot === n) throw new Error('GF(256): singular matrix');
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col]!, a[pivot]!];
      [out[pivot], out[col]] = [out[col]!, out[pivot]!];
    }
    const scale = inv(a[col]![col]!);
    for (let j = 0; j < n; j++) {
      a[col]![j] = mul(a[col]![j]!, scale);
      out[col]![j] = mul(out[col]![j]!, scale);
    }
    for (let r = 0; r < n; r++) {
      const f = a[r]![col]!;
      if (r === col || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r]![j]! ^= mul(f, a[col]![j]!);
        out[r]![j]! ^= mul(f, out[col]![j]!);
      }
    }
  }
  return out;
}
