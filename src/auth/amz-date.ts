// Request timestamps: ISO 8601 basic (x-amz-date, X-Amz-Date) and HTTP dates (Date).

/** How far a signed request's time may be from the server's, as S3 allows. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The last timestamp parsed: requests signed within the same second share it. */
let last: { text: string; ms: number | undefined } = { text: '', ms: undefined };

/** Milliseconds for `yyyymmddThhmmssZ`, or undefined when malformed or not a real date. */
export function parseAmzDate(s: string): number | undefined {
  if (s === last.text) return last.ms;
  const ms = parseAmzDateOnce(s);
  last = { text: s, ms };
  return ms;
}

function parseAmzDateOnce(s: string): number | undefined {
  const m = ISO_BASIC.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return ms;
}

/** Milliseconds for an HTTP date (RFC 7231: IMF-fixdate, RFC 850, asctime), or undefined. */
export function parseHttpDate(s: string): number | undefined {
  if (!/[a-zA-Z]{3}/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Either format, as S3 accepts in x-amz-date / Date. */
export function parseAnyDate(s: string): number | undefined {
  return parseAmzDate(s.trim()) ?? parseHttpDate(s.trim());
}

export function toAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function toIsoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
