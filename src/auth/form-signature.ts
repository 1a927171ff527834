// Signatures of browser form uploads (POST Object): the form carries a base64 policy document and
// its signature instead of a signed request. SigV4 signs the policy with the derived signing key
// (the same one, from the same cache, as header signatures); SigV2 with HMAC-SHA1 of the secret.
import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.ts';
import { parseAmzDate } from './amz-date.ts';
import { safeEqual, secretKeyOf } from './crypto.ts';
import { signingKeys } from './signing-key-cache.ts';
import { signHex } from './sigv4-canonical.ts';
import { SERVICE } from './sigv4.ts';

export interface FormCredential {
  accessKeyId: string;
  /** yyyymmdd of the credential scope. */
  date: string;
  region: string;
}

function invalid(name: string, value: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
}

/** `AKID/yyyymmdd/region/s3/aws4_request` of the x-amz-credential field, checked against `region` and x-amz-date. */
export function parseFormCredential(credential: string, amzDate: string, region: string): FormCredential {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[0] === '' || !/^\d{8}$/.test(parts[1]!) || parts[3] !== SERVICE || parts[4] !== 'aws4_request') {
    throw invalid('x-amz-credential', credential, 'Invalid credential: expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  if (parts[2] !== region) {
    throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${parts[2]}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (parseAmzDate(amzDate) === undefined) throw invalid('x-amz-date', amzDate, 'Invalid x-amz-date: expecting yyyymmddThhmmssZ.');
  if (!amzDate.startsWith(parts[1]!)) throw invalid('x-amz-credential', credential, 'The credential date does not match x-amz-date.');
  return { accessKeyId: parts[0]!, date: parts[1]!, region };
}

/** True when `signature` (hex) is the SigV4 signature of `policy` (the base64 text as sent). */
export function formSignatureV4Matches(secret: string, cred: FormCredential, policy: string, signature: string): boolean {
  const key = signingKeys.get(secret, cred.date, cred.region, SERVICE);
  return safeEqual(signHex(key, policy), signature.toLowerCase());
}

/** True when `signature` (base64) is the SigV2 signature of `policy`. */
export function formSignatureV2Matches(secret: string, policy: string, signature: string): boolean {
  const expected = createHmac('sha1', secretKeyOf(secret)).update(policy, 'utf8').digest('base64');
  return safeEqual(expected, signature);
}
