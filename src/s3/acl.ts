// ACLs in S3's request and response forms: the x-amz-acl and x-amz-grant-* headers, and the
// AccessControlPolicy XML document. Grantees are resolved to accounts before anything is stored.

import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.ts';
import { header, type S3Context } from './context.ts';
import { el, doc, escapeXml } from './xml.ts';
import { displayNameOf } from './owners.ts';
import { CANNED_ACLS, GROUP_URIS, PERMISSIONS, cannedGrants, effectiveGrants, isPublicAcl, type CannedAcl } from '../iam/acl.ts';
import type { Bucket, Grant, Grantee, Permission } from '../meta/index.ts';

const GRANT_HEADERS: ReadonlyArray<[string, Permission]> = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** A grantee as the client named it, before resolution. */
type NamedGrantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string } | { type: 'AmazonCustomerByEmail'; email: string };

/** Turns named grantees into stored ones: e-mails become account ids; ids and groups must exist. */
async function resolve(ctx: S3Context, grants: Array<{ grantee: NamedGrantee; permission: Permission }>): Promise<Grant[]> {
  const out: Grant[] = [];
  for (const { grantee, permission } of grants) {
    let resolved: Grantee;
    if (grantee.type === 'AmazonCustomerByEmail') {
      const account = await ctx.meta.getAccountByEmail(grantee.email);
      if (!account) throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: grantee.email });
      resolved = { type: 'CanonicalUser', id: account.id };
    } else if (grantee.type === 'Group') {
      if (!GROUP_URIS.includes(grantee.uri)) throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: grantee.uri });
      resolved = grantee;
    } else {
      if (!(await ctx.meta.getAccount(grantee.id))) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: grantee.id });
      resolved = grantee;
    }
    out.push({ grantee: resolved, permission });
  }
  return out;
}

/** `id="..", emailAddress="..", uri=".."` as in the x-amz-grant-* headers. */
function parseGrantHeader(name: string, value: string): NamedGrantee[] {
  const out: NamedGrantee[] = [];
  for (const item of value.split(',')) {
    const m = /^\s*(id|emailAddress|uri)\s*=\s*"?([^"]*)"?\s*$/i.exec(item);
    if (!m) throw new S3Error('InvalidArgument', `Invalid grant header value: ${item.trim()}`, { ArgumentName: name, ArgumentValue: value });
    const kind = m[1]!.toLowerCase();
    const v = m[2]!;
    if (kind === 'id') out.push({ type: 'CanonicalUser', id: v });
    else if (kind === 'uri') out.push({ type: 'Group', uri: v });
    else out.push({ type: 'AmazonCustomerByEmail', email: v });
  }
  return out;
}

/**
 * The ACL a write asks for through x-amz-acl or x-amz-grant-* headers, for a resource that `owner`
 * will own in a bucket of `bucketOwner`; undefined when the request names none (the default).
 * Public ACLs are refused (AccessDenied) when the bucket's public access block says BlockPublicAcls.
 */
export async function aclFromHeaders(ctx: S3Context, owner: string, bucketOwner: string, bucket?: Bucket): Promise<Grant[] | undefined> {
  const canned = header(ctx, 'x-amz-acl');
  const named = GRANT_HEADERS.flatMap(([name, permission]) => {
    const v = header(ctx, name);
    return v === undefined ? [] : parseGrantHeader(name, v).map((grantee) => ({ grantee, permission }));
  });
  if (canned !== undefined && named.length > 0) {
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  let grants: Grant[] | undefined;
  if (canned !== undefined) {
    if (!(CANNED_ACLS as readonly string[]).includes(canned)) {
      throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: canned });
    }
    grants = cannedGrants(canned as CannedAcl, owner, bucketOwner);
    // The default ACL is stored as "none", so the owner's later changes follow the same path.
    if (canned === 'private' || grants.length === 1) grants = undefined;
  } else if (named.length > 0) {
    grants = await resolve(ctx, named);
  }
  checkNotBlocked(bucket, grants);
  return grants;
}

/** BlockPublicAcls: a request that would make something public through an ACL is refused. */
export function checkNotBlocked(bucket: Bucket | undefined, grants: readonly Grant[] | undefined): void {
  if (bucket?.settings.publicAccessBlock?.blockPublicAcls && isPublicAcl(grants)) throw new S3Error('AccessDenied');
}

const aclParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => name === 'Grant',
});

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['#text'] === 'string') {
    return ((v as Record<string, unknown>)['#text'] as string).trim();
  }
  return undefined;
}

/** An AccessControlPolicy document as grants; anything malformed is MalformedACLError. */
export async function aclFromXml(ctx: S3Context, body: string): Promise<Grant[]> {
  let parsed: unknown;
  try {
    parsed = aclParser.parse(body, true);
  } catch {
    throw new S3Error('MalformedACLError');
  }
  const policy = (parsed as Record<string, unknown> | undefined)?.['AccessControlPolicy'];
  if (typeof policy !== 'object' || policy === null) throw new S3Error('MalformedACLError');
  const list = (policy as Record<string, unknown>)['AccessControlList'];
  const rawGrants = list === '' || list === undefined ? [] : (list as Record<string, unknown>)['Grant'];
  if (!Array.isArray(rawGrants)) throw new S3Error('MalformedACLError');
  const named = rawGrants.map((g) => {
    if (typeof g !== 'object' || g === null) throw new S3Error('MalformedACLError');
    const grant = g as Record<string, unknown>;
    const permission = text(grant['Permission']) as Permission;
    if (!PERMISSIONS.includes(permission)) throw new S3Error('MalformedACLError');
    const who = grant['Grantee'];
    if (typeof who !== 'object' || who === null) throw new S3Error('MalformedACLError');
    const w = who as Record<string, unknown>;
    const type = typeof w['@type'] === 'string' ? (w['@type'] as string) : undefined;
    const id = text(w['ID']);
    const uri = text(w['URI']);
    const email = text(w['EmailAddress']);
    let grantee: NamedGrantee;
    if ((type ?? (id ? 'CanonicalUser' : uri ? 'Group' : 'AmazonCustomerByEmail')) === 'CanonicalUser' && id) grantee = { type: 'CanonicalUser', id };
    else if ((type === 'Group' || type === undefined) && uri) grantee = { type: 'Group', uri };
    else if ((type === 'AmazonCustomerByEmail' || type === undefined) && email) grantee = { type: 'AmazonCustomerByEmail', email };
    else throw new S3Error('MalformedACLError');
    return { grantee, permission };
  });
  return resolve(ctx, named);
}

/** The AccessControlPolicy document of a resource. */
export async function renderAcl(ctx: S3Context, owner: string, stored: readonly Grant[] | undefined): Promise<string> {
  const ownerXml = `${el('ID', owner)}${el('DisplayName', await displayNameOf(ctx, owner))}`;
  let grants = '';
  for (const g of effectiveGrants(stored, owner)) {
    const who = g.grantee;
    const inner =
      who.type === 'CanonicalUser'
        ? `${el('ID', who.id)}${el('DisplayName', await displayNameOf(ctx, who.id))}`
        : el('URI', who.uri);
    grants +=
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="${escapeXml(who.type)}">${inner}</Grantee>` +
      `${el('Permission', g.permission)}</Grant>`;
  }
  return doc('AccessControlPolicy', `<Owner>${ownerXml}</Owner><AccessControlList>${grants}</AccessControlList>`);
}
