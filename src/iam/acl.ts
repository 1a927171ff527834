// Access control lists as S3 defines them: who holds which permission on a bucket or an object,
// what each permission lets its holder do, and the canned ACLs. Grantees are account ids or one of
// S3's groups; e-mail grantees are resolved to account ids before they are stored.

import type { Grant, Grantee, Permission } from '../meta/index.ts';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
export const GROUP_URIS: readonly string[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

export const PERMISSIONS: readonly Permission[] = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'];

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'aws-exec-read',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

// The IAM actions each permission stands for (S3's "Mapping of ACL permissions and access policy
// permissions"). WRITE on a bucket also covers deleting and the multipart calls of writers.
const BUCKET_ACTIONS: Record<Exclude<Permission, 'FULL_CONTROL'>, readonly string[]> = {
  READ: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
  WRITE: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  READ_ACP: ['s3:GetBucketAcl'],
  WRITE_ACP: ['s3:PutBucketAcl'],
};
const OBJECT_ACTIONS: Record<Exclude<Permission, 'FULL_CONTROL'>, readonly string[]> = {
  READ: ['s3:GetObject', 's3:GetObjectVersion'],
  WRITE: [],
  READ_ACP: ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  WRITE_ACP: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'],
};

function permissionsFor(table: typeof BUCKET_ACTIONS): Map<string, Permission> {
  const map = new Map<string, Permission>();
  for (const [permission, actions] of Object.entries(table)) for (const a of actions) map.set(a, permission as Permission);
  return map;
}
const BUCKET_PERMISSION = permissionsFor(BUCKET_ACTIONS);
const OBJECT_PERMISSION = permissionsFor(OBJECT_ACTIONS);

/** The bucket ACL permission that grants an action, if any does. */
export function bucketPermissionFor(action: string): Permission | undefined {
  return BUCKET_PERMISSION.get(action);
}

/** The object ACL permission that grants an action, if any does. */
export function objectPermissionFor(action: string): Permission | undefined {
  return OBJECT_PERMISSION.get(action);
}

export function ownerGrant(owner: string): Grant {
  return { grantee: { type: 'CanonicalUser', id: owner }, permission: 'FULL_CONTROL' };
}

function group(uri: string, permission: Permission): Grant {
  return { grantee: { type: 'Group', uri }, permission };
}

/**
 * The grants of a canned ACL. `owner` is the resource's owner; `bucketOwner` the bucket's (the same
 * for a bucket). bucket-owner-* ACLs add nothing when the writer owns the bucket.
 */
export function cannedGrants(acl: CannedAcl, owner: string, bucketOwner: string): Grant[] {
  const grants = [ownerGrant(owner)];
  switch (acl) {
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    case 'bucket-owner-read':
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) {
        const permission = acl === 'bucket-owner-read' ? 'READ' : 'FULL_CONTROL';
        grants.push({ grantee: { type: 'CanonicalUser', id: bucketOwner }, permission });
      }
      break;
    default:
      break;
  }
  return grants;
}

/** The grants a resource has when none are stored: its owner's FULL_CONTROL. */
export function effectiveGrants(stored: readonly Grant[] | undefined, owner: string): readonly Grant[] {
  return stored ?? [ownerGrant(owner)];
}

function isPublicGrantee(g: Grantee): boolean {
  return g.type === 'Group' && (g.uri === ALL_USERS || g.uri === AUTHENTICATED_USERS);
}

/** S3's "public" ACL: one that grants anything to AllUsers or AuthenticatedUsers. */
export function isPublicAcl(grants: readonly Grant[] | undefined): boolean {
  return grants?.some((g) => isPublicGrantee(g.grantee)) ?? false;
}

/**
 * Whether the grants give `accountId` (null: anonymous) the permission, directly or through
 * FULL_CONTROL. With `ignorePublic` (the public access block's IgnorePublicAcls) the AllUsers and
 * AuthenticatedUsers grants count for nothing.
 */
export function grantsAllow(grants: readonly Grant[], accountId: string | null, permission: Permission, ignorePublic: boolean): boolean {
  for (const g of grants) {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') continue;
    const who = g.grantee;
    if (who.type === 'CanonicalUser') {
      if (accountId !== null && who.id === accountId) return true;
    } else if (!ignorePublic) {
      if (who.uri === ALL_USERS) return true;
      if (who.uri === AUTHENTICATED_USERS && accountId !== null) return true;
    }
  }
  return false;
}
