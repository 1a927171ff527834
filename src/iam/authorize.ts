// The one access decision every S3 request passes through, in AWS's order: an explicit Deny in the
// bucket policy wins; then the bucket owner, a policy Allow or an ACL grant allows; otherwise deny.
// The public access block's switches are applied here too (IgnorePublicAcls, RestrictPublicBuckets).

import type { Bucket, Grant } from '../meta/index.ts';
import { bucketPermissionFor, effectiveGrants, grantsAllow, objectPermissionFor } from './acl.ts';

/** Condition keys (aws:SourceIp, s3:prefix, ...) and their values for one request. */
export type ConditionContext = Record<string, string | string[] | undefined>;

/** A bucket policy compiled for evaluation (src/iam/policy). */
export interface CompiledPolicy {
  evaluate(req: { accountId: string | null; action: string; resource: string; context: ConditionContext }): 'allow' | 'deny' | 'none';
  readonly isPublic: boolean;
}

export type PolicyCompiler = (text: string, bucket: string) => CompiledPolicy;

/** What an ACL decision needs of an object. */
export interface ObjectAccess {
  owner: string;
  acl?: Grant[];
}

export interface AccessRequest {
  /** The caller's account, or null when the request is anonymous. */
  accountId: string | null;
  /** The IAM action, e.g. s3:GetObject. */
  action: string;
  bucket: Bucket;
  /** Set for object actions (the resource is then arn:aws:s3:::bucket/key). */
  key?: string;
  /** The condition keys' values; only asked for when the bucket has a policy. */
  context: () => Promise<ConditionContext>;
  /** Loads the object when its ACL may decide; undefined when there is no such object. */
  object?: () => Promise<ObjectAccess | undefined>;
  /** The account that started the multipart upload the request names, if it names one. */
  initiator?: () => Promise<string | undefined>;
}

/** What the initiator of a multipart upload may always do with it (as S3 allows by default). */
const INITIATOR_ACTIONS = new Set(['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);

/** Only the bucket owner may use these, whatever the ACLs say (a policy may still allow them). */
const OWNER_ONLY = new Set([
  's3:GetBucketPolicy',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:GetBucketPolicyStatus',
  's3:GetBucketPublicAccessBlock',
  's3:PutBucketPublicAccessBlock',
]);

/** What an object's owner may always do with it (S3's object-writer ownership). */
const OBJECT_OWNER_ACTIONS = new Set([
  's3:GetObject',
  's3:GetObjectAcl',
  's3:PutObjectAcl',
  's3:GetObjectTagging',
  's3:PutObjectTagging',
  's3:DeleteObjectTagging',
]);

const POLICY_CACHE_MAX = 1000;

export function resourceArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

export class AccessControl {
  /** Validates and compiles a policy; throws S3's MalformedPolicy error when it is not valid. */
  readonly compile: PolicyCompiler;
  /** Compiled policies by bucket and text: a policy is parsed once, not per request. */
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(compile: PolicyCompiler) {
    this.compile = compile;
  }

  policyOf(bucket: Bucket): CompiledPolicy | undefined {
    const text = bucket.settings.policy;
    if (text === undefined) return undefined;
    const id = `${bucket.name}\n${text}`;
    let p = this.compiled.get(id);
    if (!p) {
      p = this.compile(text, bucket.name);
      if (this.compiled.size >= POLICY_CACHE_MAX) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(id, p);
    }
    return p;
  }

  async decide(r: AccessRequest): Promise<'allow' | 'deny'> {
    const { bucket, accountId, action } = r;
    const settings = bucket.settings;
    const isOwner = accountId !== null && accountId === bucket.owner;
    let policyAllows = false;
    const policy = this.policyOf(bucket);
    if (policy) {
      const context = await r.context();
      const verdict = policy.evaluate({ accountId, action, resource: resourceArn(bucket.name, r.key), context });
      if (verdict === 'deny') return 'deny';
      // RestrictPublicBuckets: a public policy serves only the owner's account.
      if (verdict === 'allow') policyAllows = isOwner || !(settings.publicAccessBlock?.restrictPublicBuckets && policy.isPublic);
    }
    if (isOwner || policyAllows) return 'allow';
    if (OWNER_ONLY.has(action)) return 'deny';

    const ignorePublic = settings.publicAccessBlock?.ignorePublicAcls ?? false;
    const bucketPermission = bucketPermissionFor(action);
    if (bucketPermission && grantsAllow(effectiveGrants(settings.acl, bucket.owner), accountId, bucketPermission, ignorePublic)) {
      return 'allow';
    }

    if (r.initiator && accountId !== null && INITIATOR_ACTIONS.has(action) && (await r.initiator()) === accountId) return 'allow';

    const objectPermission = objectPermissionFor(action);
    if (r.key !== undefined && r.object && (objectPermission || OBJECT_OWNER_ACTIONS.has(action))) {
      const obj = await r.object();
      // No such object: only a caller who may list the bucket learns that (404); others get 403.
      if (!obj) return this.decide({ accountId, action: 's3:ListBucket', bucket, context: r.context });
      if (accountId !== null && obj.owner === accountId && OBJECT_OWNER_ACTIONS.has(action)) return 'allow';
      if (objectPermission && grantsAllow(effectiveGrants(obj.acl, obj.owner), accountId, objectPermission, ignorePublic)) {
        return 'allow';
      }
    }
    return 'deny';
  }
}
