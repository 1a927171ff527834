import { S3_ACTIONS, type ResourceKind } from './actions.ts';
import { parseConditions, type ConditionTest } from './conditions.ts';
import { PolicyError } from './errors.ts';
import { isPlainObject, parsePrincipal, type Principals } from './principal.ts';
import { compileWildcards, hasWildcard, matchesSomeExtension, type Matcher } from './wildcard.ts';

// Parsing and validation of a bucket policy document. Everything a request evaluation needs is
// compiled here once (action/resource matchers, condition matchers), so evaluate.ts only tests.

export const MAX_POLICY_BYTES = 20 * 1024;

/** A list of names (exact ones in a Set, wildcard ones in one Matcher), possibly negated (Not...). */
export interface NameMatcher {
  readonly patterns: readonly string[];
  readonly exact: ReadonlySet<string>;
  readonly wildcard: Matcher | null;
  /** NotAction / NotResource / NotPrincipal: the statement applies to what is *not* listed. */
  readonly negated: boolean;
}

export interface Statement {
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly principals: Principals;
  readonly notPrincipal: boolean;
  /** Lower-cased action names ('s3:getobject'); match with a lower-cased action. */
  readonly actions: NameMatcher;
  readonly resources: NameMatcher;
  readonly conditions: readonly ConditionTest[];
}

/** A validated policy, ready to evaluate. `text` is the JSON exactly as it was put. */
export interface BucketPolicy {
  readonly text: string;
  readonly version: string | undefined;
  readonly id: string | undefined;
  readonly statements: readonly Statement[];
}

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/** Parses and validates a bucket policy for `bucket`; throws PolicyError with S3's reason. */
export function parsePolicy(text: string, bucket: string): BucketPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) throw new PolicyError('Policy exceeds the maximum allowed document size');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('This policy contains invalid Json');
  }
  if (!isPlainObject(doc)) throw new PolicyError('This policy contains invalid Json');
  for (const field of Object.keys(doc)) if (!TOP_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field}`);
  const { Version: version, Id: id, Statement: body } = doc;
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version))) throw new PolicyError('Policy has invalid Version');
  if (id !== undefined && typeof id !== 'string') throw new PolicyError('Policy has invalid Id');
  if (body === undefined) throw new PolicyError('Missing required field Statement');
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) throw new PolicyError('Missing required field Statement');
  const statements = list.map((s) => parseStatement(s, bucket));
  return { text, version, id, statements };
}

function parseStatement(s: unknown, bucket: string): Statement {
  if (!isPlainObject(s)) throw new PolicyError('This policy contains invalid Json');
  for (const field of Object.keys(s)) if (!STATEMENT_FIELDS.has(field)) throw new PolicyError(`Unknown field ${field}`);
  const sid = s.Sid;
  if (sid !== undefined && typeof sid !== 'string') throw new PolicyError('Policy has invalid Sid');
  if (s.Effect === undefined) throw new PolicyError('Missing required field Effect');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError(`Invalid effect: ${String(s.Effect)}`);

  const principal = pick(s, 'Principal', 'NotPrincipal');
  const action = pick(s, 'Action', 'NotAction');
  const resource = pick(s, 'Resource', 'NotResource');

  const actionNames = stringList(action.value, 'Policy has invalid action');
  const kinds = new Set<ResourceKind>();
  for (const a of actionNames) for (const k of actionKinds(a)) kinds.add(k);

  const resourceNames = stringList(resource.value, 'Policy has invalid resource');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  let appliesSomewhere = action.negated || resource.negated;
  for (const r of resourceNames) {
    // A pattern may name the bucket itself, objects in it, or (with wildcards) both.
    const names = { bucket: wildcardMatches(r, bucketArn), object: matchesSomeExtension(r, `${bucketArn}/`) };
    if (!names.bucket && !names.object) throw new PolicyError('Policy has invalid resource');
    if ((names.bucket && kinds.has('bucket')) || (names.object && kinds.has('object'))) appliesSomewhere = true;
  }
  if (!appliesSomewhere) throw new PolicyError('Action does not apply to any resource(s) in statement');

  return {
    sid,
    effect: s.Effect,
    principals: parsePrincipal(principal.value),
    notPrincipal: principal.negated,
    actions: matcher(actionNames.map((a) => a.toLowerCase()), action.negated, true),
    resources: matcher(resourceNames, resource.negated, false),
    conditions: s.Condition === undefined ? [] : parseConditions(s.Condition),
  };
}

/** The one of `field` / `Not<field>` that a statement has (exactly one is required). */
function pick(s: Record<string, unknown>, field: string, notField: string): { value: unknown; negated: boolean } {
  const has = s[field] !== undefined;
  const hasNot = s[notField] !== undefined;
  if (has && hasNot) throw new PolicyError(`Statement cannot contain both ${field} and ${notField}`);
  if (!has && !hasNot) throw new PolicyError(`Missing required field ${field}`);
  return has ? { value: s[field], negated: false } : { value: s[notField], negated: true };
}

function stringList(value: unknown, error: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) throw new PolicyError(error);
  return list as string[];
}

/** The resource kinds an Action entry can apply to; throws for names that are no s3: action. */
function actionKinds(action: string): ResourceKind[] {
  const lower = action.toLowerCase();
  if (lower === '*' || lower === 's3:*') return ['bucket', 'object'];
  if (!lower.startsWith('s3:')) throw new PolicyError('Policy has invalid action');
  if (!hasWildcard(lower)) {
    const kind = S3_ACTIONS.get(lower);
    if (!kind) throw new PolicyError('Policy has invalid action');
    return [kind];
  }
  const re = compileWildcards([lower], false);
  const kinds = [...S3_ACTIONS].filter(([name]) => re.test(name)).map(([, kind]) => kind);
  if (kinds.length === 0) throw new PolicyError('Policy has invalid action');
  return kinds;
}

function wildcardMatches(pattern: string, s: string): boolean {
  return hasWildcard(pattern) ? compileWildcards([pattern], false).test(s) : pattern === s;
}

function matcher(patterns: string[], negated: boolean, ignoreCase: boolean): NameMatcher {
  const wild = patterns.filter(hasWildcard);
  return {
    patterns,
    exact: new Set(patterns.filter((p) => !hasWildcard(p))),
    wildcard: wild.length > 0 ? compileWildcards(wild, ignoreCase) : null,
    negated,
  };
}

/** Whether `name` is listed by `m` (ignoring negation); lower-case actions before calling. */
export function listed(m: NameMatcher, name: string): boolean {
  return m.exact.has(name) || (m.wildcard !== null && m.wildcard.test(name));
}
