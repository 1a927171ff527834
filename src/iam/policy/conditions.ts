import { BlockList, isIP } from 'node:net';
import { PolicyError } from './errors.ts';
import { isPlainObject } from './principal.ts';
import { compileWildcards, type Matcher } from './wildcard.ts';

// The Condition element, with AWS's rules: every operator and every key in a block must hold
// (AND); a key holds when the request's value matches any of the listed values (OR). A key the
// request lacks fails a positive operator and satisfies a negated one (StringNotEquals, NotIpAddress,
// ...); `...IfExists` makes a missing key pass; `ForAnyValue:` needs one request value to match
// (missing: false), `ForAllValues:` needs every request value to match (missing: true).

/** A request's condition values by `conditionKeyId`; absent keys give undefined. */
export type ContextLookup = (keyId: string) => readonly string[] | undefined;

/**
 * How a condition key is matched: its name is case-insensitive, but the tag key after the slash of
 * `s3:ExistingObjectTag/<key>`, `s3:RequestObjectTag/<key>` or `aws:ResourceTag/<key>` is not (S3
 * tag keys are case-sensitive: "Env" and "env" are two tags).
 */
export function conditionKeyId(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key.toLowerCase() : key.slice(0, slash).toLowerCase() + key.slice(slash);
}

export interface ConditionTest {
  /** The operator as written, e.g. 'ForAnyValue:StringLikeIfExists'. */
  readonly operator: string;
  /** The operator without qualifier and IfExists, e.g. 'StringLike'. */
  readonly base: string;
  readonly qualifier: 'ForAnyValue' | 'ForAllValues' | null;
  readonly ifExists: boolean;
  readonly negated: boolean;
  /** The condition key as `conditionKeyId` gives it (names case-insensitive, tag keys not). */
  readonly key: string;
  /** The listed values as strings (JSON numbers and booleans converted). */
  readonly values: readonly string[];
  /** Whether one request value matches any listed value under the positive form of the operator. */
  readonly matchOne: (value: string) => boolean;
}

type Compiler = (values: readonly string[], operator: string) => (v: string) => boolean;

/** Positive operators; each negated one maps to the positive it negates. */
const POSITIVE: Record<string, Compiler> = {
  StringEquals: (vals) => {
    const set = new Set(vals);
    return (v) => set.has(v);
  },
  StringEqualsIgnoreCase: (vals) => {
    const set = new Set(vals.map((x) => x.toLowerCase()));
    return (v) => set.has(v.toLowerCase());
  },
  StringLike: (vals) => {
    const re = compileWildcards(vals, false);
    return (v) => re.test(v);
  },
  NumericEquals: numeric((a, b) => a === b),
  NumericLessThan: numeric((a, b) => a < b),
  NumericLessThanEquals: numeric((a, b) => a <= b),
  NumericGreaterThan: numeric((a, b) => a > b),
  NumericGreaterThanEquals: numeric((a, b) => a >= b),
  DateEquals: date((a, b) => a === b),
  DateLessThan: date((a, b) => a < b),
  DateLessThanEquals: date((a, b) => a <= b),
  DateGreaterThan: date((a, b) => a > b),
  DateGreaterThanEquals: date((a, b) => a >= b),
  Bool: (vals, op) => {
    for (const x of vals) if (!/^(true|false)$/i.test(x)) throw badValue(op, x);
    const set = new Set(vals.map((x) => x.toLowerCase()));
    return (v) => set.has(v.toLowerCase());
  },
  BinaryEquals: (vals) => {
    const set = new Set(vals);
    return (v) => set.has(v);
  },
  IpAddress: (vals, op) => {
    const list = new BlockList();
    for (const x of vals) {
      const cidr = parseCidr(x);
      if (!cidr) throw badValue(op, x);
      list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    return (v) => {
      const family = isIP(v);
      return family !== 0 && list.check(v, family === 4 ? 'ipv4' : 'ipv6');
    };
  },
  ArnLike: (vals) => {
    const arns = vals.map(compileArn);
    return (v) => arns.some((m) => m(v));
  },
};
POSITIVE.ArnEquals = POSITIVE.ArnLike!; // AWS: ArnEquals also honours wildcards, per component

const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NumericNotEquals: 'NumericEquals',
  DateNotEquals: 'DateEquals',
  NotIpAddress: 'IpAddress',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

const KEY = /^(?:aws|s3):\S+$/i;

/** Parses a statement's Condition element (already known to be present). */
export function parseConditions(block: unknown): ConditionTest[] {
  if (!isPlainObject(block)) throw new PolicyError('Invalid Condition block');
  const tests: ConditionTest[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    const op = parseOperator(operator);
    if (!isPlainObject(keys) || Object.keys(keys).length === 0) throw new PolicyError(`Invalid Condition block for operator ${operator}`);
    for (const [key, raw] of Object.entries(keys)) {
      if (!KEY.test(key)) throw new PolicyError('Policy has an invalid condition key');
      const values = conditionValues(raw, operator);
      let matchOne: (v: string) => boolean;
      if (op.base === 'Null') {
        for (const x of values) if (!/^(true|false)$/i.test(x)) throw badValue(operator, x);
        matchOne = () => false; // Null is evaluated on presence alone
      } else {
        matchOne = POSITIVE[NEGATED[op.base] ?? op.base]!(values, operator);
      }
      tests.push({ operator, ...op, key: conditionKeyId(key), values, matchOne });
    }
  }
  return tests;
}

function parseOperator(operator: string): Pick<ConditionTest, 'base' | 'qualifier' | 'ifExists' | 'negated'> {
  const colon = operator.indexOf(':');
  const prefix = colon < 0 ? null : operator.slice(0, colon);
  if (prefix !== null && prefix !== 'ForAnyValue' && prefix !== 'ForAllValues') throw new PolicyError(`Invalid Condition operator ${operator}`);
  const qualifier: ConditionTest['qualifier'] = prefix;
  const rest = operator.slice(colon + 1);
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  const negated = Object.hasOwn(NEGATED, base);
  const known = negated || Object.hasOwn(POSITIVE, base) || base === 'Null'; // hasOwn: not 'toString'
  // Null asks about presence itself, so IfExists and set qualifiers make no sense on it.
  if (!known || (base === 'Null' && (ifExists || qualifier))) throw new PolicyError(`Invalid Condition operator ${operator}`);
  return { base, qualifier, ifExists, negated };
}

function conditionValues(raw: unknown, operator: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyError(`Invalid Condition value for operator ${operator}`);
  return list.map((x) => {
    if (typeof x === 'string') return x;
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    throw new PolicyError(`Invalid Condition value for operator ${operator}`);
  });
}

/** Whether the request satisfies one condition test. */
export function testCondition(t: ConditionTest, lookup: ContextLookup): boolean {
  const got = lookup(t.key);
  const present = got !== undefined && got.length > 0;
  if (t.base === 'Null') {
    // {"Null": {"k": "true"}}: k must be absent; "false": k must be present.
    return t.values.some((x) => (x.toLowerCase() === 'true') === !present);
  }
  if (!present) {
    if (t.ifExists || t.qualifier === 'ForAllValues') return true;
    if (t.qualifier === 'ForAnyValue') return false;
    return t.negated;
  }
  const one = t.negated ? (v: string) => !t.matchOne(v) : t.matchOne;
  if (t.qualifier === 'ForAllValues') return got.every(one);
  if (t.qualifier === 'ForAnyValue') return got.some(one);
  // No qualifier: a negated operator means "matches none of the values".
  const any = got.some(t.matchOne);
  return t.negated ? !any : any;
}

// --- value parsers ---

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s.trim()) ? Number(s) : undefined;
}

function numeric(cmp: (request: number, policy: number) => boolean): Compiler {
  return (vals, op) => {
    const nums = vals.map((x) => parseNumber(x) ?? badValueThrow(op, x));
    return (v) => {
      const n = parseNumber(v);
      return n !== undefined && nums.some((p) => cmp(n, p));
    };
  };
}

const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** ISO 8601 (aws:CurrentTime) or epoch seconds (aws:EpochTime) -> milliseconds since the epoch. */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (EPOCH.test(t)) return Number(t) * 1000;
  const m = ISO.exec(t);
  if (!m) return undefined;
  let zone = m[3] ?? 'Z'; // without a zone, UTC (not the server's local time)
  if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(m[2] ? `${m[1]}T${m[2]}${zone.toUpperCase()}` : `${m[1]}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function date(cmp: (request: number, policy: number) => boolean): Compiler {
  return (vals, op) => {
    const times = vals.map((x) => parseDate(x) ?? badValueThrow(op, x));
    return (v) => {
      const n = parseDate(v);
      return n !== undefined && times.some((p) => cmp(n, p));
    };
  };
}

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** '203.0.113.0/24', '2001:db8::/32' or a bare address (a /32 or /128). */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const address = slash < 0 ? s : s.slice(0, slash);
  const v = isIP(address);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * ARN wildcards stay inside their colon-separated component (the last, resource component keeps
 * any further colons). A value that is no full ARN is matched as a whole.
 */
function compileArn(value: string): (v: string) => boolean {
  const parts = arnParts(value);
  if (!parts) {
    const whole = compileWildcards([value], false);
    return (v) => whole.test(v);
  }
  const matchers: Matcher[] = parts.map((p) => compileWildcards([p], false));
  return (v) => {
    const got = arnParts(v);
    return got !== undefined && matchers.every((m, i) => m.test(got[i]!));
  };
}

function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(':');
  return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function badValue(operator: string, value: string): PolicyError {
  return new PolicyError(`Invalid Condition value ${JSON.stringify(value)} for operator ${operator}`);
}

function badValueThrow(operator: string, value: string): never {
  throw badValue(operator, value);
}
