// Share links in the SQLite MetaStore: their statements and row mapping (table `shares`, schema.ts).

import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';
import type { ShareLink } from '../types.ts';

type Row = Record<string, SQLOutputValue>;

const COLUMNS = 'id, token_hash, owner, bucket, kind, key, created_at, expires_at';

function shareFrom(r: Row): ShareLink {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    owner: r.owner as string,
    bucket: r.bucket as string,
    kind: r.kind as ShareLink['kind'],
    key: r.key as string,
    createdAt: new Date(r.created_at as number),
    expiresAt: new Date(r.expires_at as number),
  };
}

export class ShareRows {
  private readonly q: Record<'insert' | 'byToken' | 'byOwner' | 'delete' | 'expire', StatementSync>;

  constructor(db: DatabaseSync) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      insert: p(`INSERT INTO shares (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      byToken: p(`SELECT ${COLUMNS} FROM shares WHERE token_hash = ?`),
      byOwner: p(`SELECT ${COLUMNS} FROM shares WHERE owner = ? ORDER BY created_at, id`),
      delete: p('DELETE FROM shares WHERE id = ? AND owner = ?'),
      expire: p('DELETE FROM shares WHERE expires_at <= ?'),
    };
  }

  /** Throws SQLite's foreign-key error when the bucket does not exist (the store maps it). */
  insert(s: ShareLink): void {
    this.q.insert.run(s.id, s.tokenHash, s.owner, s.bucket, s.kind, s.key, s.createdAt.getTime(), s.expiresAt.getTime());
  }

  byTokenHash(tokenHash: string): ShareLink | undefined {
    const r = this.q.byToken.get(tokenHash);
    return r ? shareFrom(r) : undefined;
  }

  byOwner(owner: string): ShareLink[] {
    return this.q.byOwner.all(owner).map(shareFrom);
  }

  delete(owner: string, id: string): boolean {
    return this.q.delete.run(id, owner).changes === 1;
  }

  deleteExpired(now: Date): number {
    return Number(this.q.expire.run(now.getTime()).changes);
  }
}
