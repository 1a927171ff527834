import type { Readable } from 'node:stream';
import { S3Error } from '../s3/index.ts';
import type { Principal } from '../s3/index.ts';
import { readSmallBody } from '../s3/body.ts';
import { AccountError, accountInfo, keyInfo, type Accounts } from '../iam/index.ts';
import type { MetaStore } from '../meta/index.ts';

// The admin JSON API under /_oort/admin/v1/ (SigV4 with an administrator's key), and the
// self-service sign-up endpoint /_oort/signup (anonymous, off unless --allow-signup).
// Bucket names cannot contain '_', so these paths never shadow a path-style bucket.

export const RESERVED_PREFIX = '/_oort/';

export interface JsonResponse {
  status: number;
  body: unknown;
}

/** Extra admin routes of one server (keyed by its MetaStore): storage nodes and repair (admin-nodes.ts). */
export type AdminExtension = (method: string, parts: string[], readJson: (body: Readable) => Promise<Record<string, unknown>>, body: Readable) => Promise<JsonResponse | undefined>;
const extensions = new WeakMap<MetaStore, AdminExtension>();

export function extendAdmin(meta: MetaStore, extension: AdminExtension): void {
  extensions.set(meta, extension);
}

export interface AdminDeps {
  accounts: Accounts;
  meta: MetaStore;
  allowSignup: boolean;
}

async function readJson(body: Readable): Promise<Record<string, unknown>> {
  const text = (await readSmallBody(body, 64 * 1024)).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {}
  throw new AccountError('Invalid', 'the body must be a JSON object');
}

function optString(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AccountError('Invalid', `${name} must be a string`);
  return v;
}

function requireString(o: Record<string, unknown>, name: string): string {
  const v = optString(o, name);
  if (v === undefined) throw new AccountError('Invalid', `${name} is required`);
  return v;
}

const STATUS: Record<AccountError['code'], number> = { NotFound: 404, Conflict: 409, LimitExceeded: 409, Invalid: 400 };

/** Answers a request under /_oort/. `principal` is null for anonymous requests. */
export async function handleAdmin(deps: AdminDeps, method: string, path: string, principal: Principal | null, body: Readable): Promise<JsonResponse> {
  try {
    if (path === '/_oort/signup') {
      if (!deps.allowSignup) return { status: 404, body: { error: { code: 'NotFound', message: 'sign-up is disabled on this server' } } };
      if (method !== 'POST') return { status: 405, body: { error: { code: 'MethodNotAllowed', message: 'POST only' } } };
      const input = await readJson(body);
      const account = await deps.accounts.createAccount({
        displayName: requireString(input, 'displayName'),
        email: requireString(input, 'email'),
        password: requireString(input, 'password'),
      });
      const { key, secretAccessKey } = await deps.accounts.createKey(account.id);
      return { status: 201, body: { account: accountInfo(account), accessKeyId: key.accessKeyId, secretAccessKey } };
    }
    if (!path.startsWith('/_oort/admin/v1/')) return { status: 404, body: { error: { code: 'NotFound', message: 'no such endpoint' } } };
    if (!principal) throw new S3Error('AccessDenied');
    if (!principal.isAdmin) throw new S3Error('AccessDenied', 'The admin API needs an administrator\'s access key.');
    return await adminRoute(deps, method, path.slice('/_oort/admin/v1/'.length).split('/').map(decodeURIComponent), body);
  } catch (err) {
    if (err instanceof AccountError) return { status: STATUS[err.code], body: { error: { code: err.code, message: err.message } } };
    throw err;
  }
}

async function adminRoute(deps: AdminDeps, method: string, parts: string[], body: Readable): Promise<JsonResponse> {
  const { accounts, meta } = deps;
  const [collection, id, action] = parts;
  const route = `${method} ${collection ?? ''}${id !== undefined ? '/:id' : ''}${action !== undefined ? `/${action}` : ''}`;
  const extended = await extensions.get(meta)?.(method, parts, readJson, body);
  if (extended) return extended;
  switch (route) {
    case 'GET accounts':
      return { status: 200, body: { accounts: (await meta.listAccounts()).map(accountInfo) } };
    case 'POST accounts': {
      const input = await readJson(body);
      const account = await accounts.createAccount({
        displayName: requireString(input, 'displayName'),
        email: optString(input, 'email'),
        password: optString(input, 'password'),
        isAdmin: input.isAdmin === true,
      });
      return { status: 201, body: { account: accountInfo(account) } };
    }
    case 'GET accounts/:id':
      return { status: 200, body: { account: accountInfo(await accounts.requireAccount(id!)) } };
    case 'POST accounts/:id/suspend':
      await accounts.setStatus(id!, 'suspended');
      return { status: 200, body: { account: accountInfo(await accounts.requireAccount(id!)) } };
    case 'POST accounts/:id/activate':
      await accounts.setStatus(id!, 'active');
      return { status: 200, body: { account: accountInfo(await accounts.requireAccount(id!)) } };
    case 'POST accounts/:id/rate-limit': {
      const input = await readJson(body);
      const v = input.rateLimit;
      if (!(v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0))) {
        throw new AccountError('Invalid', 'rateLimit must be a number of requests per second (0 = unlimited), or null for the server default');
      }
      await accounts.setRateLimit(id!, v);
      return { status: 200, body: { account: accountInfo(await accounts.requireAccount(id!)) } };
    }
    case 'POST accounts/:id/max-buckets': {
      const input = await readJson(body);
      const v = input.maxBuckets;
      if (!(v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0))) {
        throw new AccountError('Invalid', 'maxBuckets must be a whole number of buckets, or null for the server default');
      }
      await accounts.setMaxBuckets(id!, v);
      return { status: 200, body: { account: accountInfo(await accounts.requireAccount(id!)) } };
    }
    case 'GET accounts/:id/keys':
      await accounts.requireAccount(id!);
      return { status: 200, body: { keys: (await meta.listAccessKeys(id!)).map(keyInfo) } };
    case 'POST accounts/:id/keys': {
      const { key, secretAccessKey } = await accounts.createKey(id!);
      return { status: 201, body: { key: keyInfo(key), secretAccessKey } };
    }
    case 'POST keys/:id/disable':
      await accounts.setKeyStatus(id!, 'Inactive');
      return { status: 200, body: { key: keyInfo((await meta.getAccessKey(id!))!) } };
    case 'POST keys/:id/enable':
      await accounts.setKeyStatus(id!, 'Active');
      return { status: 200, body: { key: keyInfo((await meta.getAccessKey(id!))!) } };
    case 'DELETE keys/:id':
      await accounts.deleteKey(id!);
      return { status: 204, body: undefined };
    default:
      return { status: 404, body: { error: { code: 'NotFound', message: `no such endpoint: ${method} ${parts.join('/')}` } } };
  }
}
