// What x-amz-content-sha256 says about the body: a hash to check, unsigned, or aws-chunked framing.
import type { KeyObject } from 'node:crypto';
import { S3Error } from '../s3/errors.ts';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** Signing material for aws-chunked chunk and trailer signatures. */
export interface ChunkSigning {
  signingKey: Uint8Array | KeyObject;
  amzDate: string;
  scope: string;
  /** The request's own signature: the first chunk's "previous signature". */
  seedSignature: string;
}

export type PayloadMode =
  | { kind: 'raw' }
  | { kind: 'sha256'; expected: string }
  | { kind: 'chunked'; trailer: boolean; signing: ChunkSigning | undefined };

/** Throws InvalidArgument unless the value is one S3 accepts. */
export function checkContentSha256(value: string): void {
  if (
    value === UNSIGNED_PAYLOAD ||
    value === STREAMING_SIGNED ||
    value === STREAMING_SIGNED_TRAILER ||
    value === STREAMING_UNSIGNED_TRAILER ||
    HEX_SHA256.test(value)
  ) {
    return;
  }
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ' +
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

/**
 * The body handling for an x-amz-content-sha256 value. Signed chunk modes need the SigV4
 * signing material; without it (SigV2, anonymous) they are refused.
 */
export function payloadMode(contentSha256: string | undefined, signing: ChunkSigning | undefined): PayloadMode {
  if (contentSha256 === undefined || contentSha256 === UNSIGNED_PAYLOAD) return { kind: 'raw' };
  checkContentSha256(contentSha256);
  if (contentSha256 === STREAMING_UNSIGNED_TRAILER) return { kind: 'chunked', trailer: true, signing: undefined };
  if (contentSha256 === STREAMING_SIGNED || contentSha256 === STREAMING_SIGNED_TRAILER) {
    if (!signing) {
      throw new S3Error('InvalidRequest', `x-amz-content-sha256 ${contentSha256} requires AWS Signature Version 4 in the Authorization header.`);
    }
    return { kind: 'chunked', trailer: contentSha256 === STREAMING_SIGNED_TRAILER, signing };
  }
  return { kind: 'sha256', expected: contentSha256.toLowerCase() };
}
