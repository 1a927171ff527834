import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/index.ts';
import { S3Error, toS3Error, resolveOperation, dispatch, type Operation, type S3Context } from '../s3/index.ts';
import { bucketFromHost, parseAddress } from '../s3/addressing.ts';
import type { MetaStore } from '../meta/index.ts';
import type { ObjectEngine } from '../engine/index.ts';
import type { Identity } from '../iam/index.ts';
import { nextRequestId } from './request-id.ts';
import { sendError, sendResponse } from './respond.ts';
import type { AccessLog } from './access-log.ts';

export interface GatewayDeps {
  meta: MetaStore;
  engine: ObjectEngine;
  identity: Identity;
  region: string;
  /** Domains for virtual-hosted style (`bucket.<domain>`). */
  domains: readonly string[];
  log: AccessLog;
  /** Where unexpected failures are reported (never to the client). */
  onInternalError: (err: unknown, requestId: string) => void;
}

/** The request path: id -> address -> auth -> operation -> handler -> response, errors as S3 XML. */
export function createGateway(deps: GatewayDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = nextRequestId();
    const rawUrl = req.url ?? '/';
    const head = req.method === 'HEAD';
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'oort-storage');
    let op: Operation | undefined;
    let accessKey: string | null | undefined;
    let errorCode: string | undefined;

    try {
      const address = parseAddress(rawUrl, req.headers.host, deps.domains);
      const auth = await authenticate(
        {
          method: req.method ?? 'GET',
          rawUrl,
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          body: req,
          virtualHostBucket: bucketFromHost(req.headers.host, deps.domains),
        },
        deps.identity.lookup,
        { region: deps.region },
      );
      accessKey = auth.accessKeyId;
      if (auth.accessKeyId === null) throw new S3Error('AccessDenied');
      const principal = deps.identity.principal(auth.accessKeyId);
      if (!principal) throw new S3Error('InvalidAccessKeyId');
      op = resolveOperation({
        method: req.method ?? 'GET',
        bucket: address.bucket,
        key: address.key,
        query: address.query,
        hasCopySource: req.headers['x-amz-copy-source'] !== undefined,
      });
      const ctx: S3Context = {
        requestId,
        method: req.method ?? 'GET',
        bucket: address.bucket,
        key: address.key,
        query: address.query,
        headers: req.headers,
        principal,
        body: auth.body,
        contentLength: auth.contentLength,
        trailers: auth.trailers,
        meta: deps.meta,
        engine: deps.engine,
        region: deps.region,
      };
      const response = await dispatch(op, ctx);
      await sendResponse(res, response, head);
    } catch (err) {
      const s3err = toS3Error(err);
      errorCode = s3err.code;
      if (res.headersSent) {
        // The body had started: the only honest signal left is a cut connection.
        res.destroy();
      } else {
        // A body we did not read would be parsed as the next request: close instead.
        if (s3err.code === 'InternalError') deps.onInternalError(err, requestId);
        if (!req.complete) res.setHeader('connection', 'close');
        sendError(res, s3err, requestId, rawUrl.split('?')[0]!, head);
      }
    } finally {
      deps.log.write({
        time: new Date().toISOString(),
        requestId,
        remote: req.socket.remoteAddress,
        method: req.method ?? '',
        path: rawUrl,
        operation: op,
        accessKey,
        status: res.statusCode,
        error: errorCode,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        bytesOut: Number(res.getHeader('content-length') ?? 0),
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
