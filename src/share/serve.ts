import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { S3Error, type AccessGate, type Principal, type S3Context, type S3Response } from '../s3/index.ts';
import { createGate } from '../s3/gate.ts';
import { checkKey } from '../s3/names.ts';
import { getObject, headObject } from '../s3/handlers/object-get.ts';
import type { AccessControl } from '../iam/authorize.ts';
import type { MetaStore, ShareLink } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';
import { resolveToken, SHARE_PATH } from './links.ts';
import { folderListing, renderListing } from './listing.ts';

// GET/HEAD /share/<token>[/<path>]: what a share link serves, to anyone holding it.
// - Unknown, expired or revoked token, suspended owner, owner without access: 403 AccessDenied, the
//   same answer for all, so a URL reveals nothing about links that do not work.
// - Each request is decided again with the link's owner as the principal (the one access decision,
//   src/iam/authorize.ts): losing access, or a policy Deny, stops the link at once.
// - Downloads run the GetObject/HeadObject handlers themselves: Range, conditional GETs and errors
//   (404 NoSuchKey for a deleted object) behave exactly as on the S3 API.

export interface ShareServeDeps {
  meta: MetaStore;
  engine: ObjectEngine;
  access: AccessControl;
  credentials: AccessGate['credentials'];
  region: string;
}

export interface ShareRequest {
  requestId: string;
  method: string;
  /** The raw path, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The request body (never read). */
  body: Readable;
  sourceIp: string;
  secure: boolean;
}

/**
 * True for /share/<something> (path style only). `share` is a reserved bucket name, so these paths
 * name no bucket's objects; /share itself still reaches the S3 API (CreateBucket answers that the
 * name is taken).
 */
export function isSharePath(path: string): boolean {
  return path.length > SHARE_PATH.length + 1 && path.startsWith(`${SHARE_PATH}/`);
}

function denied(): S3Error {
  return new S3Error('AccessDenied');
}

/** `/share/<token>/<rest>` -> token and the decoded rest (undefined when there is no `/` after the token). */
function splitPath(path: string): { token: string; rest: string | undefined } {
  const tail = path.slice(SHARE_PATH.length + 1);
  const slash = tail.indexOf('/');
  const token = slash < 0 ? tail : tail.slice(0, slash);
  if (slash < 0) return { token, rest: undefined };
  try {
    return { token, rest: decodeURIComponent(tail.slice(slash + 1)) };
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** `inline; filename="name"; filename*=UTF-8''name`: a shared file is saved under its own name, not the token's. */
function disposition(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1) || 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function serveShare(deps: ShareServeDeps, req: ShareRequest): Promise<S3Response> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new S3Error('MethodNotAllowed', undefined, { Method: req.method, ResourceType: 'OBJECT' });
  }
  const { token, rest } = splitPath(req.path);
  const link = await resolveToken(deps.meta, token);
  if (!link) throw denied();
  const account = await deps.meta.getAccount(link.owner);
  if (!account || account.status !== 'active') throw denied();
  const owner: Principal = { accountId: account.id, displayName: account.displayName, accessKeyId: '', isAdmin: false };
  const gateFor = (query: URLSearchParams) =>
    createGate(
      { meta: deps.meta, access: deps.access, credentials: deps.credentials },
      { principal: owner, headers: req.headers, query, sourceIp: req.sourceIp, secure: req.secure },
    );

  if (link.kind === 'object') {
    if (rest !== undefined && rest !== '') throw new S3Error('NoSuchKey', undefined, { Key: rest });
    return download(deps, req, link, link.key, owner, gateFor(new URLSearchParams()));
  }
  // A folder link: the key is always the link's prefix followed by the rest, so `..`, `//` or an
  // encoded slash only ever name (possibly missing) keys under the prefix, never outside it.
  const relative = rest ?? '';
  if (relative === '' || relative.endsWith('/')) return list(deps, req, link, token, relative, gateFor);
  return download(deps, req, link, link.key + relative, owner, gateFor(new URLSearchParams()));
}

async function download(deps: ShareServeDeps, req: ShareRequest, link: ShareLink, key: string, owner: Principal, gate: AccessGate): Promise<S3Response> {
  checkKey(key);
  const bucket = await gate.check('s3:GetObject', link.bucket, key);
  const ctx: S3Context = {
    requestId: req.requestId,
    method: req.method,
    bucket: link.bucket,
    key,
    // No sub-resources or overrides (versionId, partNumber, response-*) through a share link.
    query: new URLSearchParams(),
    headers: req.headers,
    principal: owner,
    bucketRecord: bucket,
    gate,
    body: req.body,
    contentLength: undefined,
    trailers: new Map(),
    meta: deps.meta,
    engine: deps.engine,
    region: deps.region,
    secure: req.secure,
    defaultStorageClass: 'STANDARD',
  };
  const response = req.method === 'HEAD' ? await headObject(ctx) : await getObject(ctx);
  const headers = { ...response.headers };
  if (headers['content-disposition'] === undefined) headers['content-disposition'] = disposition(key);
  // Shared caches must not keep serving a link after it is revoked.
  if (headers['cache-control'] === undefined) headers['cache-control'] = 'private';
  // Usage metering hook: when billing exists, count this response's bytes (content-length, or the
  // bytes actually sent) as egress of link.owner here; share downloads count against the owner.
  return { ...response, headers };
}

async function list(
  deps: ShareServeDeps,
  req: ShareRequest,
  link: ShareLink,
  token: string,
  folder: string,
  gateFor: (query: URLSearchParams) => AccessGate,
): Promise<S3Response> {
  const prefix = link.key + folder;
  if (!prefix.isWellFormed()) throw new S3Error('InvalidURI');
  // The decision sees the listing as ListObjects would send it (s3:prefix, s3:delimiter conditions).
  await gateFor(new URLSearchParams({ prefix, delimiter: '/' })).check('s3:ListBucket', link.bucket);
  const after = req.query.get('after');
  const page = await deps.meta.listObjects(link.bucket, {
    prefix,
    delimiter: '/',
    after: after !== null && after !== '' && after.isWellFormed() ? link.key + after : undefined,
    limit: 1000,
  });
  const format = req.query.get('format') === 'json' ? 'json' : 'html';
  return renderListing(folderListing(token, link.key, folder, page), token, format);
}
