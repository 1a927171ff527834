import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';

// POST Object: browser form uploads (multipart/form-data) authorized by a signed policy document.
// Not built yet: answers NotImplemented.

export async function postObject(_ctx: S3Context): Promise<S3Response> {
  throw new S3Error('NotImplemented');
}
