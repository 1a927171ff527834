import { createHash, randomBytes } from 'node:crypto';
import type { MetaStore, ShareLink } from '../meta/index.ts';

// Share links: a random token in a short URL (/share/<token>) stands for one account's read access to
// one object or one folder until it expires. Only the token's SHA-256 is stored, so the database
// cannot mint working links; revoking deletes the row, so it takes effect at the next request.

export interface ShareSettings {
  /** Lifetime when the creator names none (ms). */
  defaultExpiryMs: number;
  /** Longest lifetime a link may have (ms). */
  maxExpiryMs: number;
}

/** The path share links are served under; the bucket name `share` is reserved for it. */
export const SHARE_PATH = '/share';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 192 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface NewShare {
  owner: string;
  bucket: string;
  kind: ShareLink['kind'];
  key: string;
  expiresAt: Date;
}

/** Stores a new link; returns it with its token (shown to the creator once, never stored). */
export async function createShare(meta: MetaStore, s: NewShare, now = new Date()): Promise<{ link: ShareLink; token: string }> {
  const token = newToken();
  const link: ShareLink = {
    id: randomBytes(9).toString('base64url'),
    tokenHash: hashToken(token),
    owner: s.owner,
    bucket: s.bucket,
    kind: s.kind,
    key: s.key,
    createdAt: now,
    expiresAt: s.expiresAt,
  };
  await meta.createShare(link);
  return { link, token };
}

/** The live link a token names: undefined when unknown, revoked or expired. */
export async function resolveToken(meta: MetaStore, token: string, now = Date.now()): Promise<ShareLink | undefined> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) return undefined;
  const link = await meta.getShareByTokenHash(hashToken(token));
  return link && link.expiresAt.getTime() > now ? link : undefined;
}

/** What the owner API and CLI show of a link (never the token hash). */
export function shareInfo(link: ShareLink) {
  return {
    id: link.id,
    kind: link.kind,
    bucket: link.bucket,
    ...(link.kind === 'object' ? { key: link.key } : { prefix: link.key }),
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
  };
}
