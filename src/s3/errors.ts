import { NoSuchBucketError } from '../meta/errors.ts';
import { StorageUnavailableError } from '../engine/index.ts';

// One error type for every S3 failure: thrown from anywhere (auth, handlers, streams),
// rendered as S3 XML in one place (http/respond.ts).

const STATUS: Record<string, [number, string]> = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadRequest: [400, 'Bad Request'],
  BadDigest: [400, 'The Content-MD5 or checksum you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [400, 'The location constraint is incompatible for the region specific endpoint this request was sent to.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidURI: [400, 'Couldn\'t parse the specified URI.'],
  InvalidObjectState: [403, 'The operation is not valid for the current state of the object.'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid.'],
  KeyTooLongError: [400, 'Your key is too long.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist.'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [404, 'The specified multipart upload does not exist.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header or query you provided implies functionality that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the server\'s time is too large.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.'],
  ConditionalRequestConflict: [409, 'A conflicting conditional operation is currently in progress against this resource.'],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid.'],
  // Access control and sharing
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MalformedPolicy: [400, 'Policies must be valid JSON and the first byte must be \'{\''],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
  TooManyBuckets: [400, 'You have attempted to create more buckets than allowed.'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchTagSet: [404, 'The TagSet does not exist'],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  CORSResponse: [403, 'This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  EntityTooLargeForPolicy: [400, 'Your proposed upload exceeds the maximum allowed size.'],
  UnexpectedContent: [400, 'This request does not support content.'],
  // Browsers: preflights S3 refuses, and form uploads
  AccessForbidden: [403, 'CORSResponse: This CORS request is not allowed.'],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MaxPostPreDataLengthExceededError: [400, 'Your POST request fields preceding the upload file were too large.'],
  AccountProblem: [403, 'There is a problem with your account that prevents the operation from completing successfully.'],
};

export type S3ErrorCode = keyof typeof STATUS;

export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra elements for the <Error> body, e.g. { Key, BucketName, ArgumentName }. */
  readonly fields: Record<string, string>;
  /** Extra response headers (e.g. Retry-After, x-amz-delete-marker). */
  readonly headers: Record<string, string>;

  constructor(code: string, message?: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const known = STATUS[code];
    super(message ?? known?.[1] ?? code);
    this.code = code;
    this.status = known?.[0] ?? 500;
    this.fields = fields;
    this.headers = headers;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}

/** Any thrown value as an S3Error; unknown failures become InternalError (details stay in the log). */
export function toS3Error(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  // The bucket vanished between the handler's check and the metadata write.
  if (e instanceof NoSuchBucketError) return new S3Error('NoSuchBucket', undefined, { BucketName: e.bucket });
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new S3Error('ServiceUnavailable', 'The storage is full.');
  if (e instanceof StorageUnavailableError) return new S3Error('ServiceUnavailable', 'Not enough storage is reachable to store the data durably; try again later.', {}, { 'Retry-After': '5' });
  return new S3Error('InternalError');
}
