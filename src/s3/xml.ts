import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.ts';

// Responses are rendered with small templates; requests are parsed with fast-xml-parser.

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

const NEEDS_ESCAPE = /[&<>"'\r]/;

export function escapeXml(s: string): string {
  // Most values (keys, dates, sizes) have nothing to escape: test before replacing.
  return NEEDS_ESCAPE.test(s) ? s.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!) : s;
}

/** `<name>escaped value</name>`, or '' when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document with the S3 namespace on its root element. */
export function doc(root: string, inner: string): string {
  return `${XML_DECL}<${root} xmlns="${S3_NS}">${inner}</${root}>`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Numeric references (&#34; from Go's encoder, &#x9;) must decode like any XML parser's.
  htmlEntities: true,
  isArray: (name) => name === 'Object' || name === 'Part',
});

/** Parses a request body; anything that is not well-formed XML is MalformedXML. */
export function parseXml(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new S3Error('MalformedXML');
  try {
    const parsed = parser.parse(text, true);
    if (typeof parsed !== 'object' || parsed === null) throw new S3Error('MalformedXML');
    return parsed as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

/** ISO-8601 with milliseconds, as S3 writes dates in XML. */
export function isoDate(d: Date): string {
  return d.toISOString();
}
