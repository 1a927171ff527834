import { S3Error } from '../errors.ts';
import type { S3Context, S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { requireBucket } from '../access.ts';
import { readSmallBody } from '../body.ts';
import { doc, el, parseXml } from '../xml.ts';
import { deleteData } from './object-put.ts';

/** Removes the current version of a key and then its bytes; absent keys are not an error. */
async function removeKey(ctx: S3Context, key: string): Promise<void> {
  const removed = await ctx.meta.deleteObject(ctx.bucket!, key);
  if (removed) await deleteData(ctx, removed);
}

export async function deleteObject(ctx: S3Context): Promise<S3Response> {
  const key = ctx.key!;
  checkKey(key);
  await requireBucket(ctx);
  await removeKey(ctx, key);
  return { status: 204 };
}

const MAX_DELETE_KEYS = 1000;

export async function deleteObjects(ctx: S3Context): Promise<S3Response> {
  await requireBucket(ctx);
  const body = await readSmallBody(ctx.body, 2 * 1024 * 1024);
  const parsed = parseXml(body.toString('utf8'))['Delete'];
  if (typeof parsed !== 'object' || parsed === null) throw new S3Error('MalformedXML');
  const del = parsed as Record<string, unknown>;
  const quiet = String(del['Quiet'] ?? '').trim().toLowerCase() === 'true';
  const objects = (del['Object'] ?? []) as unknown[];
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML');

  // The whole document is checked before anything is removed: a malformed entry changes nothing.
  const entries = objects.map((item) => {
    const fields = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : undefined;
    const key = fields?.['Key'];
    const versionId = fields?.['VersionId'];
    if (typeof key !== 'string' || (versionId !== undefined && typeof versionId !== 'string')) throw new S3Error('MalformedXML');
    return { key, versionId: versionId as string | undefined };
  });

  let out = '';
  for (const { key, versionId } of entries) {
    try {
      checkKey(key);
      if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion');
      // The request was allowed for the bucket; a policy may still deny single keys.
      await ctx.gate.check('s3:DeleteObject', ctx.bucket!, key);
      await removeKey(ctx, key);
      if (!quiet) out += `<Deleted>${el('Key', key)}${versionId !== undefined ? el('VersionId', versionId) : ''}</Deleted>`;
    } catch (err) {
      const e = err instanceof S3Error ? err : new S3Error('InternalError');
      out += `<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`;
    }
  }
  return { status: 200, body: doc('DeleteResult', out) };
}
