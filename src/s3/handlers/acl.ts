import type { S3Context, S3Response } from '../context.ts';
import { doc, el } from '../xml.ts';
import { requireBucket } from '../access.ts';
import { requireObject } from './object-get.ts';

// Read-only ACLs: until access control lands, every bucket and object is private to its owner,
// which S3 states as the owner's single FULL_CONTROL grant.

function ownerOnly(ownerId: string, displayName: string): string {
  const owner = `${el('ID', ownerId)}${el('DisplayName', displayName)}`;
  const grant =
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${owner}</Grantee>` +
    `${el('Permission', 'FULL_CONTROL')}</Grant>`;
  return doc('AccessControlPolicy', `<Owner>${owner}</Owner><AccessControlList>${grant}</AccessControlList>`);
}

function nameOf(ctx: S3Context, accountId: string): string {
  return accountId === ctx.principal.accountId ? ctx.principal.displayName : accountId;
}

export async function getBucketAcl(ctx: S3Context): Promise<S3Response> {
  const bucket = await requireBucket(ctx);
  return { status: 200, body: ownerOnly(bucket.owner, nameOf(ctx, bucket.owner)) };
}

export async function getObjectAcl(ctx: S3Context): Promise<S3Response> {
  const obj = await requireObject(ctx, { locators: false });
  return { status: 200, body: ownerOnly(obj.owner, nameOf(ctx, obj.owner)) };
}
