// Percent-decoding and AWS UriEncode, byte-exact, for canonical requests (SigV4 and SigV2).
// Clients disagree on which characters they escape (`!*'()`, `~`, `+`...); decoding what arrived
// and re-encoding every byte with one rule gives the form a correct client signed.

const HEX = '0123456789ABCDEF';
const UNRESERVED = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  if (/[A-Za-z0-9\-._~]/.test(c)) UNRESERVED[b] = 1;
}
const ALREADY_CANONICAL = /^[A-Za-z0-9\-._~]*$/;
const ALREADY_CANONICAL_PATH = /^[A-Za-z0-9\-._~/]*$/;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * The bytes a percent-encoded string stands for. A `%` not followed by two hex digits is kept as a
 * literal `%`; characters outside ASCII are taken as UTF-8. With plusAsSpace, `+` decodes to a space
 * (form encoding); otherwise it is a literal plus (RFC 3986).
 */
export function percentDecode(s: string, plusAsSpace = false): Buffer {
  if (!s.includes('%') && !(plusAsSpace && s.includes('+'))) return Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(Buffer.byteLength(s, 'utf8'));
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === 37 /* % */ && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
      out[n++] = code;
    } else if (code === 43 /* + */ && plusAsSpace) {
      out[n++] = 32;
    } else if (code < 0x80) {
      out[n++] = code;
    } else {
      // One code point (a surrogate pair takes two UTF-16 units).
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      n += out.write(ch, n, 'utf8');
      if (cp > 0xffff) i++;
    }
  }
  return out.subarray(0, n);
}

/** AWS UriEncode of raw bytes: unreserved characters kept, `/` kept when asked, all else %XX. */
export function uriEncode(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (UNRESERVED[b] === 1 || (keepSlash && b === 47)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Canonical URI of a raw request path, as S3 computes it: no `.`/`..`/`//` normalization; each
 * `/`-separated segment decoded and re-encoded (an encoded `%2F` inside a segment stays encoded).
 */
export function canonicalPath(rawPath: string): string {
  if (ALREADY_CANONICAL_PATH.test(rawPath)) return rawPath;
  return rawPath
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment), false))
    .join('/');
}

/** Canonical form of one raw query name or value (decoded, then re-encoded with `/` escaped). */
export function canonicalQueryPart(raw: string, plusAsSpace: boolean): string {
  if (ALREADY_CANONICAL.test(raw)) return raw;
  return uriEncode(percentDecode(raw, plusAsSpace), false);
}
