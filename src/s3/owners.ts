import { ANONYMOUS, type S3Context } from './context.ts';
import { el } from './xml.ts';

// Owners and display names as S3 shows them: the accounts' own names, looked up once per response.

/** The display name of one account (the caller's without a lookup). */
export async function displayNameOf(ctx: S3Context, id: string): Promise<string> {
  if (id === ctx.principal.accountId) return ctx.principal.displayName;
  if (id === ANONYMOUS.accountId) return ANONYMOUS.displayName;
  return (await ctx.meta.getAccount(id))?.displayName ?? id;
}

/** Looks up every distinct id once; returns a synchronous `<Owner>`-style renderer for them. */
export async function ownerRenderer(ctx: S3Context, ids: Iterable<string>): Promise<(tag: string, id: string) => string> {
  const names = new Map<string, string>();
  for (const id of ids) if (!names.has(id)) names.set(id, await displayNameOf(ctx, id));
  return (tag, id) => `<${tag}>${el('ID', id)}${el('DisplayName', names.get(id) ?? id)}</${tag}>`;
}
