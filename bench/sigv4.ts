// A minimal SigV4 header signer for the load generator. It signs only what the bench sends
// (host, x-amz-content-sha256, x-amz-date) and keeps per-request work to one SHA-256 of the
// canonical request and one HMAC: the signing key is derived once per day, the date strings
// once per second.
//
// The per-request HMAC is computed as H((K^opad) || H((K^ipad) || m)) with the padded key blocks
// prepared once per signing key, using the one-shot crypto.hash(): on this machine
// createHmac() costs ~20-30 us per call (OpenSSL 3 fetches and keys a MAC context each time),
// this ~3-5 us, and the generator shares the CPU with the server it measures.
import { createHmac, hash } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SHA-256 of the empty string: what SDKs send as x-amz-content-sha256 on bodiless requests. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 wants it (unreserved kept; `/` kept when asked). */
export function uriEncode(s: string, keepSlash: boolean): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

/** `/bucket/key` with each segment encoded: usable both as the request path and the canonical URI. */
export function objectPath(bucket: string, key?: string): string {
  if (key === undefined) return '/' + uriEncode(bucket, false);
  return '/' + uriEncode(bucket, false) + '/' + uriEncode(key, true);
}

/**
 * A query string already in canonical form (sorted by name, each name and value encoded), so the
 * same text goes on the wire and into the canonical request.
 */
export function canonicalQuery(params: Record<string, string | number>): string {
  return Object.keys(params)
    .sort()
    .map((k) => uriEncode(k, false) + '=' + uriEncode(String(params[k]), false))
    .join('&');
}

export class Signer {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  private day = '';
  private scope = '';
  private credentialPrefix = '';
  private innerPad: Buffer = Buffer.alloc(64);
  private outerPad: Buffer = Buffer.alloc(64);
  private scratch: Buffer = Buffer.alloc(4096);
  private second = -1;
  private amzDate = '';

  constructor(accessKey: string, secretKey: string, region = 'us-east-1') {
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.region = region;
  }

  private refresh(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.second) return;
    this.second = second;
    // 2026-01-02T03:04:05.678Z -> 20260102T030405Z
    const iso = new Date(second * 1000).toISOString();
    this.amzDate = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    const day = this.amzDate.slice(0, 8);
    if (day !== this.day) {
      this.day = day;
      this.scope = `${day}/${this.region}/s3/aws4_request`;
      this.credentialPrefix = `AWS4-HMAC-SHA256 Credential=${this.accessKey}/${this.scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=`;
      const kDate = hmac('AWS4' + this.secretKey, day);
      const signingKey = hmac(hmac(hmac(kDate, this.region), 's3'), 'aws4_request');
      // HMAC key blocks: the 32-byte key zero-padded to SHA-256's 64-byte block, xor ipad / opad.
      this.innerPad = Buffer.alloc(64, 0x36);
      this.outerPad = Buffer.alloc(64, 0x5c);
      for (let i = 0; i < signingKey.length; i++) {
        this.innerPad[i]! ^= signingKey[i]!;
        this.outerPad[i]! ^= signingKey[i]!;
      }
    }
  }

  /** Hex HMAC-SHA256 of an ASCII message under the current signing key. */
  private signatureOf(message: string): string {
    const need = 64 + message.length;
    if (this.scratch.length < need) this.scratch = Buffer.alloc(need * 2);
    const buf = this.scratch;
    this.innerPad.copy(buf, 0);
    const n = buf.write(message, 64, 'latin1');
    const inner = hash('sha256', buf.subarray(0, 64 + n), 'buffer');
    this.outerPad.copy(buf, 0);
    inner.copy(buf, 64);
    return hash('sha256', buf.subarray(0, 96), 'hex');
  }

  /**
   * Headers that authenticate one request. `path` and `query` must already be canonical (see
   * objectPath and canonicalQuery); `host` is the Host header the request will carry.
   */
  sign(method: string, path: string, query: string, host: string, payloadHash: string, now = Date.now()): Record<string, string> {
    this.refresh(now);
    const canonical = `${method}\n${path}\n${query}\nhost:${host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${this.amzDate}\n\n${SIGNED_HEADERS}\n${payloadHash}`;
    const hashed = hash('sha256', canonical, 'hex');
    const signature = this.signatureOf(`AWS4-HMAC-SHA256\n${this.amzDate}\n${this.scope}\n${hashed}`);
    return {
      host,
      'x-amz-date': this.amzDate,
      'x-amz-content-sha256': payloadHash,
      authorization: this.credentialPrefix + signature,
    };
  }
}
