// The access gate of one request: loads buckets, gathers the policy condition keys, and asks the
// one access decision (src/iam/authorize.ts). The gateway checks the request's own bucket or object
// through it before any handler runs; handlers check further resources (copy sources) the same way.

import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.ts';
import { header, type AccessGate, type Principal } from './context.ts';
import type { AccessControl, ConditionContext } from '../iam/authorize.ts';
import type { MetaStore } from '../meta/index.ts';

export interface RequestFacts {
  principal: Principal;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  sourceIp: string;
  secure: boolean;
}

export interface GateDeps {
  meta: MetaStore;
  access: AccessControl;
  credentials: AccessGate['credentials'];
}

/**
 * The condition keys S3 policies may test, from what the request carries; the object's keys (ACL,
 * tags) from `sent`, which is the request's headers unless a form upload's fields stand in for them.
 */
function conditionKeys(facts: RequestFacts, principal: Principal, sent: { headers: IncomingHttpHeaders }): ConditionContext {
  const now = new Date();
  const ip = facts.sourceIp.startsWith('::ffff:') ? facts.sourceIp.slice(7) : facts.sourceIp;
  const ctx: ConditionContext = {
    'aws:SourceIp': ip,
    'aws:SecureTransport': facts.secure ? 'true' : 'false',
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:UserAgent': header(facts, 'user-agent'),
    'aws:Referer': header(facts, 'referer'),
    'aws:PrincipalAccount': principal.anonymous ? undefined : principal.accountId,
    'aws:PrincipalType': principal.anonymous ? 'Anonymous' : 'Account',
    's3:x-amz-acl': header(sent, 'x-amz-acl'),
    's3:x-amz-content-sha256': header(sent, 'x-amz-content-sha256'),
  };
  for (const name of ['prefix', 'delimiter', 'max-keys'] as const) {
    const v = facts.query.get(name);
    if (v !== null) ctx[`s3:${name}`] = v;
  }
  const tagging = header(sent, 'x-amz-tagging');
  if (tagging) {
    const keys: string[] = [];
    for (const [k, v] of new URLSearchParams(tagging)) {
      ctx[`s3:RequestObjectTag/${k}`] = v;
      keys.push(k);
    }
    ctx['s3:RequestObjectTagKeys'] = keys;
  }
  return ctx;
}

export function createGate(deps: GateDeps, facts: RequestFacts): AccessGate {
  return {
    credentials: deps.credentials,
    compilePolicy: (text, bucket) => deps.access.compile(text, bucket),
    async check(action, name, key, options) {
      const bucket = await deps.meta.getBucket(name);
      if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
      if (options?.expectedOwner !== undefined && options.expectedOwner !== bucket.owner) throw new S3Error('AccessDenied');
      const principal = options?.principal ?? facts.principal;
      // Read at most once per check, whether the ACL, a tag condition or both need it.
      let object: ReturnType<MetaStore['getObject']> | undefined;
      const loadObject = key === undefined ? undefined : () => (object ??= deps.meta.getObject(name, key, { locators: false }));
      const uploadId = facts.query.get('uploadId');
      const initiator =
        key === undefined || uploadId === null ? undefined : async () => (await deps.meta.getUpload(name, key, uploadId))?.owner;
      const verdict = await deps.access.decide({
        accountId: principal.anonymous ? null : principal.accountId,
        action,
        bucket,
        key,
        object: loadObject,
        initiator,
        context: async () => {
          const sent = options?.conditionHeaders ? { headers: options.conditionHeaders } : facts;
          const ctx = conditionKeys(facts, principal, sent);
          // Tags of the object the request acts on, for s3:ExistingObjectTag/<key> conditions.
          if (loadObject && /existingobjecttag/i.test(bucket.settings.policy ?? '')) {
            for (const t of (await loadObject())?.tags ?? []) ctx[`s3:ExistingObjectTag/${t.key}`] = t.value;
          }
          return ctx;
        },
      });
      if (verdict === 'deny') throw new S3Error('AccessDenied');
      return bucket;
    },
  };
}
