import type { Readable } from 'node:stream';
import { S3Error, type AccessGate, type Principal } from '../s3/index.ts';
import { readSmallBody } from '../s3/body.ts';
import { checkKey } from '../s3/names.ts';
import type { MetaStore } from '../meta/index.ts';
import { createShare, shareInfo, type ShareSettings } from '../share/links.ts';
import type { JsonResponse } from './admin-api.ts';
import { publicSwitch } from './public-switch.ts';

// The owner JSON API under /_oort/api/v1/: what any account manages for itself (the admin API is
// for administrators). Requests are SigV4-signed with one of the account's own keys.
//
//   POST   shares        {"bucket", "key" | "prefix", "expiresInSeconds"?} -> 201 {share: {..., token, url}}
//   GET    shares        -> {shares: [...]}   (the caller's live links)
//   GET    shares/ID     -> {share}
//   DELETE shares/ID     -> 204               (revoked at once)
//   GET|PUT|DELETE buckets/BUCKET/public[?prefix=P]   the public-read switch (public-switch.ts)
//
// Errors are {error: {code, message}} with the S3 code and status where one applies.

export const OWNER_API_PREFIX = '/_oort/api/v1/';

export interface OwnerApiDeps {
  meta: MetaStore;
  shares: ShareSettings;
  /** The access decision for `principal` (the one every S3 request passes), `query` giving s3:prefix etc. */
  gate: (principal: Principal, query: URLSearchParams) => AccessGate;
}

export interface OwnerApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  principal: Principal | null;
  body: Readable;
  /** scheme://host the client used, for the links' URLs. */
  origin: string;
}

class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function fail(status: number, code: string, message: string): JsonResponse {
  return { status, body: { error: { code, message } } };
}

async function readJson(body: Readable): Promise<Record<string, unknown>> {
  const text = (await readSmallBody(body, 16 * 1024)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new ApiError(400, 'Invalid', 'the body must be a JSON object');
}

function optString(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ApiError(400, 'Invalid', `${name} must be a string`);
  return v;
}

export async function handleOwnerApi(deps: OwnerApiDeps, req: OwnerApiRequest): Promise<JsonResponse> {
  try {
    if (!req.principal) throw new S3Error('AccessDenied', 'The owner API needs a signed request.');
    const parts = req.path.slice(OWNER_API_PREFIX.length).split('/').map(decodeURIComponent);
    const [collection, id, extra] = parts;
    if (collection === 'shares' && extra === undefined) return await shares(deps, req, req.principal, id);
    if (collection === 'buckets' && id && extra === 'public' && parts.length === 3) return await publicSwitch(deps, req, req.principal, id);
    return fail(404, 'NotFound', `no such endpoint: ${req.method} ${parts.join('/')}`);
  } catch (err) {
    if (err instanceof ApiError) return fail(err.status, err.code, err.message);
    if (err instanceof S3Error && err.code !== 'InternalError') return fail(err.status, err.code, err.message);
    if (err instanceof URIError) return fail(400, 'Invalid', 'malformed path');
    throw err;
  }
}

async function shares(deps: OwnerApiDeps, req: OwnerApiRequest, caller: Principal, id: string | undefined): Promise<JsonResponse> {
  const { meta } = deps;
  const now = Date.now();
  if (id === undefined || id === '') {
    if (req.method === 'GET') {
      const live = (await meta.listShares(caller.accountId)).filter((s) => s.expiresAt.getTime() > now);
      return { status: 200, body: { shares: live.map(shareInfo) } };
    }
    if (req.method === 'POST') return create(deps, req, caller);
    return fail(405, 'MethodNotAllowed', 'GET or POST');
  }
  const link = (await meta.listShares(caller.accountId)).find((s) => s.id === id && s.expiresAt.getTime() > now);
  if (req.method === 'GET') return link ? { status: 200, body: { share: shareInfo(link) } } : fail(404, 'NotFound', 'no such share link');
  if (req.method === 'DELETE') {
    return (await meta.deleteShare(caller.accountId, id)) ? { status: 204, body: undefined } : fail(404, 'NotFound', 'no such share link');
  }
  return fail(405, 'MethodNotAllowed', 'GET or DELETE');
}

async function create(deps: OwnerApiDeps, req: OwnerApiRequest, caller: Principal): Promise<JsonResponse> {
  const input = await readJson(req.body);
  const bucket = optString(input, 'bucket');
  const key = optString(input, 'key');
  const prefix = optString(input, 'prefix');
  if (!bucket) throw new ApiError(400, 'Invalid', 'bucket is required');
  if ((key === undefined) === (prefix === undefined)) throw new ApiError(400, 'Invalid', 'give exactly one of key (one object) or prefix (a folder)');
  if (prefix !== undefined && prefix !== '' && !prefix.endsWith('/')) throw new ApiError(400, 'Invalid', 'a folder prefix ends with "/" (or is "" for the whole bucket)');
  const seconds = input.expiresInSeconds ?? deps.shares.defaultExpiryMs / 1000;
  const maxSeconds = deps.shares.maxExpiryMs / 1000;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > maxSeconds) {
    throw new ApiError(400, 'Invalid', `expiresInSeconds must be a whole number from 1 to ${maxSeconds}`);
  }

  // The creator must be able to read what it shares, now (and, checked again, at every download).
  if (key !== undefined) {
    checkKey(key);
    await deps.gate(caller, new URLSearchParams()).check('s3:GetObject', bucket, key);
    if (!(await deps.meta.getObject(bucket, key, { locators: false }))) throw new S3Error('NoSuchKey', undefined, { Key: key });
  } else {
    if (!prefix!.isWellFormed()) throw new ApiError(400, 'Invalid', 'prefix is not valid Unicode');
    await deps.gate(caller, new URLSearchParams({ prefix: prefix!, delimiter: '/' })).check('s3:ListBucket', bucket);
  }
  // One clock reading for both ends: the link lives exactly the lifetime asked for.
  const now = new Date();
  const { link, token } = await createShare(
    deps.meta,
    { owner: caller.accountId, bucket, kind: key !== undefined ? 'object' : 'prefix', key: key ?? prefix!, expiresAt: new Date(now.getTime() + seconds * 1000) },
    now,
  );
  return { status: 201, body: { share: { ...shareInfo(link), token, url: `${req.origin}/share/${token}` } } };
}
