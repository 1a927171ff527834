// Entry point: find how a request is signed (SigV4 header or query, SigV2 header or query, or not
// at all), verify it, and wrap the body in the checks its x-amz-content-sha256 calls for.
import { S3Error } from '../s3/errors.ts';
import { verifiedBody } from './body.ts';
import { payloadMode, type PayloadMode } from './payload-mode.ts';
import { headerValue, requestParts } from './request-parts.ts';
import { hasV2Query, verifyV2Header, verifyV2Query } from './sigv2.ts';
import { hasV4Query, verifyV4Header, verifyV4Query } from './sigv4.ts';
import type { AuthInput, AuthOptions, AuthResult, CredentialLookup } from './types.ts';

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter ' +
  'or the Authorization header should be specified';

/**
 * Verifies the request's signature and returns who signed it with the payload stream to read.
 * Rejects with an S3Error before touching the body when the request itself is not acceptable;
 * payload problems (bad chunk signature, hash mismatch, truncation) fail the returned body instead.
 */
export async function authenticate(input: AuthInput, lookup: CredentialLookup, opts: AuthOptions): Promise<AuthResult> {
  const req = requestParts(input);
  const authorization = headerValue(req, 'authorization')?.trim();
  const v4Query = hasV4Query(req);
  const v2Query = hasV2Query(req);
  if ((authorization && (v4Query || v2Query)) || (v4Query && v2Query)) {
    throw new S3Error('InvalidArgument', ONE_MECHANISM, { ArgumentName: 'Authorization', ArgumentValue: authorization ?? '' });
  }

  let accessKeyId: string | null = null;
  let mode: PayloadMode;
  const contentSha256 = headerValue(req, 'x-amz-content-sha256')?.trim();
  if (authorization) {
    if (/^AWS4-HMAC-SHA256(\s|$)/.test(authorization)) {
      const v4 = await verifyV4Header(req, authorization, lookup, opts);
      accessKeyId = v4.accessKeyId;
      mode = payloadMode(v4.payloadHash, v4.signing);
    } else if (/^AWS\s/.test(authorization)) {
      accessKeyId = await verifyV2Header(req, authorization, lookup, opts);
      mode = payloadMode(contentSha256, undefined);
    } else {
      throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
        ArgumentName: 'Authorization',
        ArgumentValue: authorization.split(/\s/)[0] ?? '',
      });
    }
  } else if (v4Query) {
    const v4 = await verifyV4Query(req, lookup, opts);
    accessKeyId = v4.accessKeyId;
    mode = payloadMode(v4.payloadHash, undefined);
  } else if (v2Query) {
    accessKeyId = await verifyV2Query(req, lookup, opts);
    mode = payloadMode(contentSha256, undefined);
  } else {
    mode = payloadMode(contentSha256, undefined);
  }

  const trailers = new Map<string, string>();
  const { body, contentLength } = verifiedBody(input.body, req, mode, trailers);
  return { accessKeyId, body, contentLength, trailers };
}
