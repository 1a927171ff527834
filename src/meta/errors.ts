// Errors a MetaStore throws (outcomes a caller is expected to handle are return values instead).

/** A write named a bucket that does not exist (e.g. it was deleted while the object was uploading). */
export class NoSuchBucketError extends Error {
  readonly bucket: string;

  constructor(bucket: string) {
    super(`No such bucket: ${bucket}`);
    this.name = 'NoSuchBucketError';
    this.bucket = bucket;
  }
}

/**
 * Keys, prefixes and markers must be well-formed UTF-16 (no lone surrogates): those have no UTF-8
 * form, so they could neither be stored exactly nor ordered. S3 input decoded from UTF-8 always is.
 */
export function checkText(what: string, value: string): void {
  if (!value.isWellFormed()) throw new TypeError(`${what} is not well-formed Unicode`);
}
