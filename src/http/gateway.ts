import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/index.ts';
import { S3Error, toS3Error, resolveOperation, dispatch, routeOf, ANONYMOUS, type Operation, type Principal, type S3Context } from '../s3/index.ts';
import { createGate } from '../s3/gate.ts';
import { corsHeaders } from '../s3/handlers/cors.ts';
import type { AccessControl } from '../iam/authorize.ts';
import { parseAddress } from '../s3/addressing.ts';
import type { MetaStore } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';
import type { Accounts, Identity } from '../iam/index.ts';
import { nextRequestId } from './request-id.ts';
import { sendError, sendJson, sendResponse, setHeaders } from './respond.ts';
import type { AccessLog } from './access-log.ts';
import type { RateLimiter } from './rate-limit.ts';
import { handleAdmin, RESERVED_PREFIX } from './admin-api.ts';
import { handleOwnerApi, OWNER_API_PREFIX } from './owner-api.ts';
import { isSharePath, serveShare } from '../share/serve.ts';
import type { ShareSettings } from '../share/links.ts';

export interface GatewayDeps {
  meta: MetaStore;
  engine: ObjectEngine;
  identity: Identity;
  accounts: Accounts;
  access: AccessControl;
  limiter: RateLimiter;
  allowSignup: boolean;
  region: string;
  /** Domains for virtual-hosted style (`bucket.<domain>`). */
  domains: readonly string[];
  log: AccessLog;
  /** Share links' default and longest lifetimes. */
  shares: ShareSettings;
  /** Where unexpected failures are reported (never to the client). */
  onInternalError: (err: unknown, requestId: string) => void;
}

/**
 * The request path: id -> auth -> rate limit -> operation -> handler -> response, errors as S3 XML.
 * Nothing reads the body before the signature is checked and the rate limit has let it through.
 */
export function createGateway(deps: GatewayDeps) {
  // What every request's access gate needs: made once, not per request.
  const gateDeps = { meta: deps.meta, access: deps.access, credentials: (id: string) => deps.identity.credentialsOf(id) };
  /** Takes a token for this client or fails with SlowDown (503, Retry-After). */
  function limit(client: string, rate?: number): void {
    const wait = deps.limiter.take(client, rate);
    if (wait > 0) throw new S3Error('SlowDown', undefined, {}, { 'retry-after': String(wait) });
  }

  /** A browser reads an error only with the bucket's CORS headers on it, as S3 sends them. */
  async function addCorsHeaders(res: ServerResponse, bucketName: string, method: string, req: IncomingMessage): Promise<void> {
    try {
      const bucket = await deps.meta.getBucket(bucketName);
      const cors = bucket && corsHeaders(bucket, method, req.headers);
      if (cors) setHeaders(res, cors);
    } catch {
      // The error answer matters more than its CORS headers.
    }
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = nextRequestId();
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const ip = req.socket.remoteAddress ?? 'unknown';
    /** Headers every answer carries; a successful one sends them in one writeHead with its own. */
    const base: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId, server: 'oort-storage' };
    let bytesOut: number | undefined;
    let op: Operation | undefined;
    let accessKey: string | null | undefined;
    let errorCode: string | undefined;
    /** The bucket a browser request (one with an Origin) names, for CORS headers on errors too. */
    let corsBucket: string | undefined;

    try {
      const address = parseAddress(rawUrl, req.headers.host, deps.domains);
      if (req.headers.origin !== undefined) corsBucket = address.bucket;
      const virtualHostBucket = address.hostBucket;
      const path = rawUrl.split('?')[0]!;
      const secure = 'encrypted' in req.socket;
      // Share links (/share/<token>) are anonymous by design: no signature, the link is the credential.
      if (virtualHostBucket === undefined && isSharePath(path)) {
        limit(`ip:${ip}`);
        const response = await serveShare(
          { meta: deps.meta, engine: deps.engine, access: deps.access, credentials: (id) => deps.identity.credentialsOf(id), region: deps.region },
          { requestId, method, path, query: address.query, headers: req.headers, body: req, sourceIp: ip, secure },
        );
        bytesOut = await sendResponse(res, response, head, base);
        return;
      }
      let auth;
      try {
        auth = await authenticate(
          { method, rawUrl, headers: req.headers, rawHeaders: req.rawHeaders, body: req, virtualHostBucket },
          deps.identity.lookup,
          { region: deps.region },
        );
      } catch (err) {
        // Failed signatures count against the client's address, so guessing is slowed too.
        limit(`ip:${ip}`);
        throw err;
      }
      accessKey = auth.accessKeyId;
      let principal: Principal | null = null;
      if (auth.accessKeyId === null) {
        limit(`ip:${ip}`);
      } else {
        const found = await deps.identity.principal(auth.accessKeyId);
        if (!found) throw new S3Error('InvalidAccessKeyId');
        limit(`key:${auth.accessKeyId}`, found.rateLimit);
        principal = found.principal;
      }

      if (virtualHostBucket === undefined && path.startsWith(OWNER_API_PREFIX)) {
        const gate = (p: Principal, query: URLSearchParams) =>
          createGate(
            gateDeps,
            { principal: p, headers: req.headers, query, sourceIp: ip, secure },
          );
        const origin = `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
        const r = await handleOwnerApi({ meta: deps.meta, shares: deps.shares, gate }, { method, path, query: address.query, principal, body: auth.body, origin });
        setHeaders(res, base);
        sendJson(res, r.status, r.body);
        return;
      }
      if (virtualHostBucket === undefined && path.startsWith(RESERVED_PREFIX)) {
        const r = await handleAdmin({ accounts: deps.accounts, meta: deps.meta, allowSignup: deps.allowSignup }, method, path, principal, auth.body);
        setHeaders(res, base);
        sendJson(res, r.status, r.body);
        return;
      }

      const caller = principal ?? ANONYMOUS;
      op = resolveOperation({
        method,
        bucket: address.bucket,
        key: address.key,
        query: address.query,
        hasCopySource: req.headers['x-amz-copy-source'] !== undefined,
        isForm: /^multipart\/form-data/i.test(req.headers['content-type'] ?? ''),
      });
      const gate = createGate(
        gateDeps,
        { principal: caller, headers: req.headers, query: address.query, sourceIp: ip, secure },
      );
      // The access decision, before any handler runs (handlers marked 'self' decide for themselves).
      const route = routeOf(op);
      let bucketRecord;
      if (route.access !== 'self') {
        if (address.bucket === undefined || op === 'CreateBucket') {
          if (caller.anonymous) throw new S3Error('AccessDenied');
        } else {
          const expectedOwner = req.headers['x-amz-expected-bucket-owner'];
          bucketRecord = await gate.check(route.action, address.bucket, address.key, {
            expectedOwner: Array.isArray(expectedOwner) ? expectedOwner[0] : expectedOwner,
          });
          if (req.headers.origin !== undefined) {
            const cors = corsHeaders(bucketRecord, method, req.headers);
            if (cors) Object.assign(base, cors);
          }
        }
      }
      const ctx: S3Context = {
        requestId,
        method,
        bucket: address.bucket,
        key: address.key,
        query: address.query,
        headers: req.headers,
        principal: caller,
        bucketRecord,
        gate,
        body: auth.body,
        contentLength: auth.contentLength,
        trailers: auth.trailers,
        meta: deps.meta,
        engine: deps.engine,
        region: deps.region,
        secure,
        defaultStorageClass: address.archive ? 'ARCHIVE' : 'STANDARD',
      };
      const response = await dispatch(op, ctx);
      bytesOut = await sendResponse(res, response, head, base);
    } catch (err) {
      const s3err = toS3Error(err);
      errorCode = s3err.code;
      if (res.headersSent) {
        // The body had started: the only honest signal left is a cut connection.
        res.destroy();
      } else {
        if (s3err.code === 'InternalError') deps.onInternalError(err, requestId);
        setHeaders(res, base);
        // A body we did not read would be parsed as the next request: close instead.
        if (!req.complete) res.setHeader('connection', 'close');
        if (corsBucket !== undefined && !res.hasHeader('access-control-allow-origin')) await addCorsHeaders(res, corsBucket, method, req);
        sendError(res, s3err, requestId, rawUrl.split('?')[0]!, head);
      }
    } finally {
      if (deps.log.enabled) deps.log.write({
        time: new Date().toISOString(),
        requestId,
        remote: ip,
        method,
        path: rawUrl,
        operation: op,
        accessKey,
        status: res.statusCode,
        error: errorCode,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        bytesOut: bytesOut ?? Number(res.getHeader('content-length') ?? 0),
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
