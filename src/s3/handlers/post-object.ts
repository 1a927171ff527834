import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.ts';
import { ANONYMOUS, header, type Principal, type S3Context, type S3Response } from '../context.ts';
import { checkKey } from '../names.ts';
import { aclFromHeaders } from '../acl.ts';
import { CONTENT_HEADERS, contentHeadersFrom, storageClassFrom, userMetadataFrom, type StorageClass } from '../headers.ts';
import { MAX_PUT_SIZE, writeDigested, type WrittenBody } from '../upload-body.ts';
import { commitObject } from './object-put.ts';
import { corsHeaders } from './cors.ts';
import { drain, malformed, readForm, type Form, type FormFile } from '../form-upload.ts';
import { checkPostPolicy, parsePostPolicy } from '../post-policy.ts';
import { doc, el } from '../xml.ts';
import { tagsFromXml } from '../tags.ts';
import { formSignatureV2Matches, formSignatureV4Matches, parseFormCredential } from '../../auth/form-signature.ts';
import type { Bucket, ObjectVersion, Tag } from '../../meta/index.ts';

// POST Object: browser form uploads (multipart/form-data). The form, not the request, is signed:
// its policy document (SigV4 or SigV2), or nothing for an anonymous upload. The access decision is
// then made here (the route is access 'self') for the principal that signed the form.

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    ArgumentName: name,
    ArgumentValue: '',
  });
}

/** Who signed the form (verifying the signature), or ANONYMOUS for a form without one. */
async function formPrincipal(ctx: S3Context, fields: ReadonlyMap<string, string>): Promise<{ principal: Principal; policy?: string }> {
  const policy = fields.get('policy');
  const v4 = ['x-amz-signature', 'x-amz-algorithm', 'x-amz-credential'].some((f) => fields.has(f));
  const v2 = fields.has('awsaccesskeyid') || fields.has('signature');
  if (!v4 && !v2) {
    if (policy !== undefined) throw missingField('AWSAccessKeyId');
    return { principal: ANONYMOUS };
  }
  if (policy === undefined) throw missingField('policy');
  let accessKeyId: string;
  let matches: (secret: string) => boolean;
  let signature: string;
  if (v4) {
    const algorithm = fields.get('x-amz-algorithm');
    if (algorithm === undefined) throw missingField('x-amz-algorithm');
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw new S3Error('InvalidArgument', 'Unsupported algorithm; expecting AWS4-HMAC-SHA256.', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
    }
    const credential = fields.get('x-amz-credential');
    if (credential === undefined) throw missingField('x-amz-credential');
    const amzDate = fields.get('x-amz-date');
    if (amzDate === undefined) throw missingField('x-amz-date');
    const sig = fields.get('x-amz-signature');
    if (sig === undefined) throw missingField('x-amz-signature');
    const cred = parseFormCredential(credential, amzDate, ctx.region);
    accessKeyId = cred.accessKeyId;
    signature = sig;
    matches = (secret) => formSignatureV4Matches(secret, cred, policy, sig);
  } else {
    const id = fields.get('awsaccesskeyid');
    if (id === undefined) throw missingField('AWSAccessKeyId');
    const sig = fields.get('signature');
    if (sig === undefined) throw missingField('signature');
    accessKeyId = id;
    signature = sig;
    matches = (secret) => formSignatureV2Matches(secret, policy, sig);
  }
  const found = await ctx.gate.credentials(accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  if (!matches(found.secretAccessKey)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature });
  }
  return { principal: found.principal, policy };
}

/**
 * The form's fields as the request headers PutObject reads (content headers, metadata, class, ACL,
 * tags): what the object is made of, and what a bucket policy's conditions test, as S3 judges a form.
 */
function fieldsAsHeaders(fields: ReadonlyMap<string, string>, tags: readonly Tag[] | undefined): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  for (const [name, value] of fields) {
    if ((CONTENT_HEADERS as readonly string[]).includes(name) || name.startsWith('x-amz-meta-') || name.startsWith('x-amz-grant-') || name === 'x-amz-storage-class') {
      h[name] = value;
    }
  }
  if (fields.has('acl')) h['x-amz-acl'] = fields.get('acl');
  // The field is a Tagging document; the header (and so s3:RequestObjectTag/<key>) is URL-encoded.
  if (tags) h['x-amz-tagging'] = new URLSearchParams(tags.map((t) => [t.key, t.value])).toString();
  return h;
}

/** Streams the file into the engine through MD5, within the policy's size range; too large stops at once. */
async function storeFile(ctx: S3Context, file: FormFile, range: { min: number; max: number }, storageClass: StorageClass): Promise<WrittenBody> {
  const max = Math.min(range.max, MAX_PUT_SIZE);
  const tooLarge = (seen: number) =>
    max < MAX_PUT_SIZE
      ? new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(seen), MaxSizeAllowed: String(max) })
      : new S3Error('EntityTooLarge');
  const written = await writeDigested(ctx, file.stream, storageClass, max, tooLarge);
  if (written.size < range.min) {
    await ctx.engine.delete(written.locator);
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: String(written.size), MinSizeAllowed: String(range.min) });
  }
  return written;
}

/** `http(s)://host/bucket/key` of the new object, as S3's Location. */
function objectUrl(ctx: S3Context, bucket: string, key: string): string {
  const host = header(ctx, 'host') ?? 'localhost';
  // Behind a TLS-terminating proxy the connection is plain, the proxy says https.
  const proto = ctx.secure || header(ctx, 'x-forwarded-proto') === 'https' ? 'https' : 'http';
  const path = key.split('/').map(encodeURIComponent).join('/');
  return host.startsWith(`${bucket}.`) ? `${proto}://${host}/${path}` : `${proto}://${host}/${encodeURIComponent(bucket)}/${path}`;
}

/** The answer S3 gives: a redirect, 200, 201 with PostResponse, or 204 (the default). */
function successResponse(ctx: S3Context, fields: ReadonlyMap<string, string>, obj: ObjectVersion): S3Response {
  const etag = `"${obj.etag}"`;
  const location = objectUrl(ctx, obj.bucket, obj.key);
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && URL.canParse(redirect)) {
    const url = new URL(redirect);
    url.searchParams.set('bucket', obj.bucket);
    url.searchParams.set('key', obj.key);
    url.searchParams.set('etag', etag);
    return { status: 303, headers: { location: url.toString(), etag } };
  }
  const status = fields.get('success_action_status');
  if (status === '200') return { status: 200, headers: { etag, location } };
  if (status === '201') {
    const body = doc('PostResponse', `${el('Location', location)}${el('Bucket', obj.bucket)}${el('Key', obj.key)}${el('ETag', etag)}`);
    return { status: 201, headers: { etag, location }, body };
  }
  return { status: 204, headers: { etag, location } };
}

export async function postObject(ctx: S3Context): Promise<S3Response> {
  let form: Form | undefined;
  let cors: Record<string, string> | undefined;
  try {
    const bucket = await ctx.meta.getBucket(ctx.bucket!);
    if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket! });
    // The bucket's CORS rules apply to the answer, whether the upload succeeds or not.
    if (header(ctx, 'origin') !== undefined) cors = corsHeaders(bucket, 'POST', ctx.headers);
    form = await readForm(ctx.body, ctx.headers);
    const response = await upload(ctx, bucket, form);
    return cors ? { ...response, headers: { ...response.headers, ...cors } } : response;
  } catch (err) {
    await discardRest(ctx, form);
    if (cors && err instanceof S3Error) Object.assign(err.headers, cors);
    throw err;
  }
}

/** Drops the unread rest of a refused form (bounded), so the browser gets the error, not a reset. */
async function discardRest(ctx: S3Context, form: Form | undefined): Promise<void> {
  if (!form) {
    await drain(ctx.body);
    return;
  }
  if (form.file && !(await drain(form.file.stream))) return;
  await Promise.race([form.done.catch(() => {}), sleep(500)]);
}

async function upload(ctx: S3Context, bucket: Bucket, form: Form): Promise<S3Response> {
  const fields = form.fields;
  const rawKey = fields.get('key');
  if (rawKey === undefined) throw missingField('key');
  const { principal, policy } = await formPrincipal(ctx, fields);
  let range = { min: 0, max: Number.POSITIVE_INFINITY };
  if (policy !== undefined) range = checkPostPolicy(parsePostPolicy(policy), new Map([...fields, ['bucket', bucket.name]]));
  if (!form.file) {
    throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
  }
  const key = rawKey.replaceAll('${filename}', form.file.filename);
  checkKey(key);
  // A form carries its tags as a Tagging XML document (the header's URL-encoded form is for PUT).
  const tagging = fields.get('tagging');
  const tags = tagging === undefined ? undefined : tagsFromXml(tagging, 'object');
  const headers = fieldsAsHeaders(fields, tags);
  // The policy's conditions see the form's ACL and tags; the request's own headers say nothing of the object.
  const expectedOwner = fields.get('x-amz-expected-bucket-owner') ?? header(ctx, 'x-amz-expected-bucket-owner');
  await ctx.gate.check('s3:PutObject', bucket.name, key, { principal, expectedOwner, conditionHeaders: headers });
  // Tags need s3:PutObjectTagging too, as on PutObject (tagsForWrite).
  if (tags && tags.length > 0) await ctx.gate.check('s3:PutObjectTagging', bucket.name, key, { principal, expectedOwner, conditionHeaders: headers });

  const acl = await aclFromHeaders({ ...ctx, headers, principal }, principal.accountId, bucket.owner, bucket);
  const contentHeaders = contentHeadersFrom(headers);
  const userMetadata = userMetadataFrom(headers);
  const storageClass = storageClassFrom(headers, ctx.defaultStorageClass);

  let stored: WrittenBody;
  try {
    stored = await storeFile(ctx, form.file, range, storageClass);
  } catch (err) {
    // The parser failed the file: a form that is cut short or never closes.
    if (!(err instanceof S3Error) && form.file.stream.errored) throw malformed();
    throw err;
  }
  try {
    // Commit only once the whole form has arrived intact.
    await form.done;
  } catch (err) {
    await ctx.engine.delete(stored.locator);
    throw err;
  }
  const obj: ObjectVersion = {
    bucket: bucket.name,
    key,
    versionId: 'null',
    size: stored.size,
    etag: stored.md5,
    lastModified: new Date(),
    storageClass,
    owner: principal.accountId,
    contentHeaders,
    userMetadata,
    locator: stored.locator,
  };
  if (acl) obj.acl = acl;
  if (tags && tags.length > 0) obj.tags = tags;
  await commitObject(ctx, obj, undefined);
  return successResponse(ctx, fields, obj);
}
