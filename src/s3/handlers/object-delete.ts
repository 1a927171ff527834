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

  let out = '';
  for (const item of objects) {
    const key = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['Key'] : undefined;
    if (typeof key !== 'string') throw new S3Error('MalformedXML');
    const versionId = (item as Record<string, unknown>)['VersionId'];
    try {
      checkKey(key);
      if (typeof versionId === 'string' && versionId !== 'null') throw new S3Error('NoSuchVersion');
      await removeKey(ctx, key);
      if (!quiet) out += `<Deleted>${el('Key', key)}${typeof versionId === 'string' ? el('VersionId', versionId) : ''}</Deleted>`;
    } catch (err) {
      const e = err instanceof S3Error ? err : new S3Error('InternalError');
      out += `<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`;
    }
  }
  return { status: 200, body: doc('DeleteResult', out) };
}
