import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluatePolicy, parsePolicy, type PolicyRequest } from '../../src/iam/policy/index.ts';
import { compileWildcards } from '../../src/iam/policy/wildcard.ts';

// Evaluation with AWS's rules: principals, actions, resources, conditions, Deny over Allow.

const ALICE = '0123456789abcdef0123456789abcdef';
const BOB = 'fedcba9876543210fedcba9876543210';
const OBJ = 'arn:aws:s3:::b/photos/cat.jpg';
const BUCKET_ARN = 'arn:aws:s3:::b';
const anyObject = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

type Ctx = PolicyRequest['context'];

function policy(...statements: unknown[]) {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'b');
}

function req(over: Partial<PolicyRequest> = {}): PolicyRequest {
  return { accountId: null, action: 's3:GetObject', resource: OBJ, context: {}, ...over };
}

/** The decision of one Allow statement with `Condition` for a request with `context`. */
function withCondition(Condition: unknown, context: Ctx): string {
  return evaluatePolicy(policy({ ...anyObject, Condition }), req({ context }));
}

test('Principal "*" allows anyone, anonymous included; other actions and resources get no say', () => {
  const p = policy(anyObject);
  assert.equal(evaluatePolicy(p, req()), 'allow');
  assert.equal(evaluatePolicy(p, req({ accountId: ALICE })), 'allow');
  assert.equal(evaluatePolicy(p, req({ action: 's3:PutObject' })), 'none');
  assert.equal(evaluatePolicy(p, req({ action: 's3:ListBucket', resource: BUCKET_ARN })), 'none');
  assert.equal(evaluatePolicy(p, req({ resource: 'arn:aws:s3:::bx/photos/cat.jpg' })), 'none');
  assert.equal(evaluatePolicy(policy({ ...anyObject, Principal: { AWS: '*' } }), req()), 'allow');
});

test('account principals: bare id, root ARN, user ARN, CanonicalUser; roles never match', () => {
  for (const principal of [
    { AWS: ALICE },
    { AWS: `arn:aws:iam::${ALICE}:root` },
    { AWS: [`arn:aws:iam::${BOB}:root`, `arn:aws:iam::${ALICE}:user/some/path/alice`] },
    { CanonicalUser: ALICE },
  ]) {
    const p = policy({ ...anyObject, Principal: principal });
    assert.equal(evaluatePolicy(p, req({ accountId: ALICE })), 'allow', JSON.stringify(principal));
    assert.equal(evaluatePolicy(p, req({ accountId: 'ffffffffffffffffffffffffffffffff' })), 'none');
    assert.equal(evaluatePolicy(p, req({ accountId: null })), 'none');
  }
  const role = policy({ ...anyObject, Principal: { AWS: `arn:aws:iam::${ALICE}:role/r` } });
  assert.equal(evaluatePolicy(role, req({ accountId: ALICE })), 'none');
  const service = policy({ ...anyObject, Principal: { Service: 'logging.s3.amazonaws.com' } });
  assert.equal(evaluatePolicy(service, req({ accountId: ALICE })), 'none');
});

test('an explicit Deny wins over any Allow, in any order; several Allows', () => {
  const deny = { Effect: 'Deny', Principal: { AWS: BOB }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' };
  for (const p of [policy(anyObject, deny), policy(deny, anyObject)]) {
    assert.equal(evaluatePolicy(p, req({ accountId: BOB })), 'deny');
    assert.equal(evaluatePolicy(p, req({ accountId: ALICE })), 'allow');
    assert.equal(evaluatePolicy(p, req({ accountId: BOB, resource: BUCKET_ARN, action: 's3:ListBucket' })), 'none');
  }
  const list = { Effect: 'Allow', Principal: { AWS: ALICE }, Action: 's3:ListBucket', Resource: BUCKET_ARN };
  const p = policy(anyObject, list);
  assert.equal(evaluatePolicy(p, req({ accountId: ALICE, action: 's3:ListBucket', resource: BUCKET_ARN })), 'allow');
  assert.equal(evaluatePolicy(p, req({ accountId: BOB, action: 's3:ListBucket', resource: BUCKET_ARN })), 'none');
});

test('NotPrincipal, NotAction, NotResource', () => {
  // Deny everyone but Alice (anonymous included).
  const notAlice = policy({ Effect: 'Deny', NotPrincipal: { AWS: ALICE }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' });
  assert.equal(evaluatePolicy(notAlice, req({ accountId: ALICE })), 'none');
  assert.equal(evaluatePolicy(notAlice, req({ accountId: BOB })), 'deny');
  assert.equal(evaluatePolicy(notAlice, req()), 'deny');
  // Allow everything but deleting.
  const notDelete = policy({ Effect: 'Allow', Principal: '*', NotAction: ['s3:Delete*', 's3:PutBucketPolicy'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] });
  assert.equal(evaluatePolicy(notDelete, req({ action: 's3:PutObject' })), 'allow');
  assert.equal(evaluatePolicy(notDelete, req({ action: 's3:DeleteObject' })), 'none');
  assert.equal(evaluatePolicy(notDelete, req({ action: 's3:putbucketpolicy', resource: BUCKET_ARN })), 'none');
  // Deny writes outside public/.
  const notPublic = policy({ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::b/public/*' });
  assert.equal(evaluatePolicy(notPublic, req({ action: 's3:PutObject', resource: 'arn:aws:s3:::b/public/x' })), 'none');
  assert.equal(evaluatePolicy(notPublic, req({ action: 's3:PutObject', resource: 'arn:aws:s3:::b/private/x' })), 'deny');
});

test('wildcards: actions case-insensitive, resources case-sensitive, * crosses /', () => {
  const p = policy({ Effect: 'Allow', Principal: '*', Action: ['s3:Get*', 's3:ListBucke?'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/Photos/*.jpg', 'arn:aws:s3:::b/day-??.log'] });
  const at = (action: string, resource: string) => evaluatePolicy(p, req({ action, resource }));
  assert.equal(at('s3:GetObject', 'arn:aws:s3:::b/Photos/2024/05/cat.jpg'), 'allow');
  assert.equal(at('S3:GETOBJECTACL', 'arn:aws:s3:::b/Photos/cat.jpg'), 'allow');
  assert.equal(at('s3:GetObject', 'arn:aws:s3:::b/photos/cat.jpg'), 'none');
  assert.equal(at('s3:GetObject', 'arn:aws:s3:::b/Photos/cat.jpeg'), 'none');
  assert.equal(at('s3:GetObject', 'arn:aws:s3:::b/day-01.log'), 'allow');
  assert.equal(at('s3:GetObject', 'arn:aws:s3:::b/day-1.log'), 'none');
  assert.equal(at('s3:ListBucket', BUCKET_ARN), 'allow');
  assert.equal(at('s3:ListBucketVersions', BUCKET_ARN), 'none');
  assert.equal(at('s3:PutObject', 'arn:aws:s3:::b/Photos/cat.jpg'), 'none');
  // Regex metacharacters in names are literal.
  const dots = policy({ ...anyObject, Resource: 'arn:aws:s3:::b/a.b+(c)[d]{e}$^|\\*' });
  assert.equal(evaluatePolicy(dots, req({ resource: 'arn:aws:s3:::b/a.b+(c)[d]{e}$^|\\x' })), 'allow');
  assert.equal(evaluatePolicy(dots, req({ resource: 'arn:aws:s3:::b/aXb+(c)[d]{e}$^|\\x' })), 'none');
  // Keys with newlines still match '*'.
  assert.equal(evaluatePolicy(policy(anyObject), req({ resource: 'arn:aws:s3:::b/line1\nline2' })), 'allow');
});

type Case = [operator: string, key: string, values: unknown, context: string | string[] | undefined, expected: boolean];

const CASES: Case[] = [
  ['StringEquals', 'aws:UserAgent', 'curl/8', 'curl/8', true],
  ['StringEquals', 'aws:UserAgent', 'curl/8', 'Curl/8', false],
  ['StringEquals', 'aws:UserAgent', ['a', 'curl/8'], 'curl/8', true],
  ['StringEquals', 'aws:UserAgent', 'curl/8', undefined, false],
  ['StringEquals', 's3:prefix', '*', 'home/', false],
  ['StringNotEquals', 'aws:UserAgent', 'curl/8', 'wget', true],
  ['StringNotEquals', 'aws:UserAgent', ['curl/8', 'wget'], 'wget', false],
  ['StringNotEquals', 'aws:UserAgent', 'curl/8', undefined, true],
  ['StringEqualsIgnoreCase', 's3:x-amz-acl', 'PUBLIC-READ', 'public-read', true],
  ['StringEqualsIgnoreCase', 's3:x-amz-acl', 'public-read', 'private', false],
  ['StringNotEqualsIgnoreCase', 's3:x-amz-acl', 'PUBLIC-READ', 'public-read', false],
  ['StringNotEqualsIgnoreCase', 's3:x-amz-acl', 'PUBLIC-READ', 'private', true],
  ['StringNotEqualsIgnoreCase', 's3:x-amz-acl', 'PUBLIC-READ', undefined, true],
  ['StringLike', 'aws:Referer', 'https://example.com/*', 'https://example.com/a/b', true],
  ['StringLike', 'aws:Referer', 'https://example.com/*', 'https://example.org/', false],
  ['StringLike', 's3:prefix', ['home/?/', 'docs/*'], 'home/a/', true],
  ['StringLike', 's3:prefix', ['home/?/'], 'home/ab/', false],
  ['StringLike', 's3:prefix', 'Home/*', 'home/x', false],
  ['StringLike', 's3:prefix', '', '', true],
  ['StringNotLike', 'aws:Referer', 'https://example.com/*', 'https://evil.com/', true],
  ['StringNotLike', 'aws:Referer', 'https://example.com/*', 'https://example.com/x', false],
  ['StringNotLike', 'aws:Referer', 'https://example.com/*', undefined, true],
  ['NumericEquals', 's3:max-keys', '10', '10', true],
  ['NumericEquals', 's3:max-keys', 10, '10.0', true],
  ['NumericEquals', 's3:max-keys', 10, '11', false],
  ['NumericEquals', 's3:max-keys', 10, 'ten', false],
  ['NumericNotEquals', 's3:max-keys', 10, '11', true],
  ['NumericNotEquals', 's3:max-keys', 10, '10', false],
  ['NumericNotEquals', 's3:max-keys', 10, undefined, true],
  ['NumericLessThan', 's3:max-keys', 10, '9', true],
  ['NumericLessThan', 's3:max-keys', 10, '10', false],
  ['NumericLessThanEquals', 's3:max-keys', 10, '10', true],
  ['NumericLessThanEquals', 's3:max-keys', 10, '11', false],
  ['NumericGreaterThan', 's3:max-keys', 10, '11', true],
  ['NumericGreaterThan', 's3:max-keys', 10, '10', false],
  ['NumericGreaterThanEquals', 's3:max-keys', 10, '10', true],
  ['NumericGreaterThanEquals', 's3:max-keys', 10, '9', false],
  ['NumericLessThan', 's3:max-keys', 10, undefined, false],
  ['NumericGreaterThan', 's3:max-keys', '-1.5e1', '-14', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '1767225600', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T01:00:00+0100', '2026-01-01T00:00:00Z', true],
  ['DateEquals', 'aws:CurrentTime', '2026-01-01T00:00:00', '2026-01-01T00:00:00Z', true],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', true],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', false],
  ['DateNotEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', undefined, true],
  ['DateLessThan', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2025-12-31T23:59:59Z', true],
  ['DateLessThan', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', false],
  ['DateLessThanEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true],
  ['DateGreaterThan', 'aws:EpochTime', '2026-01-01T00:00:00Z', '1767225601', true],
  ['DateGreaterThan', 'aws:EpochTime', 1767225600, '1767225600', false],
  ['DateGreaterThanEquals', 'aws:EpochTime', 1767225600, '1767225600', true],
  ['DateGreaterThanEquals', 'aws:CurrentTime', '2026-01-01T00:00:00Z', 'not a date', false],
  ['DateLessThan', 'aws:CurrentTime', '2026-01-01T00:00:00Z', undefined, false],
  ['Bool', 'aws:SecureTransport', 'true', 'true', true],
  ['Bool', 'aws:SecureTransport', true, 'TRUE', true],
  ['Bool', 'aws:SecureTransport', 'false', 'true', false],
  ['Bool', 'aws:SecureTransport', false, 'false', true],
  ['Bool', 'aws:SecureTransport', false, undefined, false],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.113.77', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.114.1', false],
  ['IpAddress', 'aws:SourceIp', '203.0.113.9', '203.0.113.9', true],
  ['IpAddress', 'aws:SourceIp', '203.0.113.9', '203.0.113.10', false],
  ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '::ffff:203.0.113.5', true],
  ['IpAddress', 'aws:SourceIp', ['10.0.0.0/8', '2001:db8::/32'], '2001:db8:ffff::1', true],
  ['IpAddress', 'aws:SourceIp', ['10.0.0.0/8', '2001:db8::/32'], '2001:db9::1', false],
  ['IpAddress', 'aws:SourceIp', '2001:db8:0:1::/64', '2001:db8:0:1:abcd::7', true],
  ['IpAddress', 'aws:SourceIp', '::1', '::1', true],
  ['IpAddress', 'aws:SourceIp', '0.0.0.0/0', '198.51.100.1', true],
  ['IpAddress', 'aws:SourceIp', '0.0.0.0/0', 'not-an-ip', false],
  ['IpAddress', 'aws:SourceIp', '10.0.0.0/8', undefined, false],
  ['NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', '11.0.0.1', true],
  ['NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', '10.255.0.1', false],
  ['NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', undefined, true],
  ['Null', 's3:x-amz-acl', 'true', undefined, true],
  ['Null', 's3:x-amz-acl', 'true', 'private', false],
  ['Null', 's3:x-amz-acl', 'false', 'private', true],
  ['Null', 's3:x-amz-acl', false, undefined, false],
  ['Null', 's3:x-amz-acl', 'true', [], true],
  ['ArnEquals', 'aws:SourceArn', 'arn:aws:s3:::logs', 'arn:aws:s3:::logs', true],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:iam::*:user/*', 'arn:aws:iam::123:user/a/b', true],
  ['ArnLike', 'aws:SourceArn', 'arn:aws:iam::*:user/*', 'arn:aws:iam::12:3:user/a', false],
  ['ArnNotLike', 'aws:SourceArn', 'arn:aws:s3:::logs*', 'arn:aws:s3:::other', true],
  ['ArnNotEquals', 'aws:SourceArn', 'arn:aws:s3:::logs', undefined, true],
  ['StringEquals', 's3:ExistingObjectTag/team', 'blue', 'blue', true],
  ['StringEquals', 's3:RequestObjectTag/team', 'blue', 'red', false],
];

test('every operator: match, mismatch, missing key', () => {
  for (const [operator, key, values, context, expected] of CASES) {
    const got = withCondition({ [operator]: { [key]: values } }, { [key]: context });
    assert.equal(got, expected ? 'allow' : 'none', `${operator} ${key} ${JSON.stringify(values)} vs ${JSON.stringify(context)}`);
  }
});

test('condition key names are case-insensitive; the tag key inside a tag condition key is not', () => {
  const policy = { StringEquals: { 'S3:existingobjecttag/Team': 'blue' } };
  assert.equal(withCondition(policy, { 's3:ExistingObjectTag/Team': 'blue' }), 'allow');
  assert.equal(withCondition(policy, { 's3:ExistingObjectTag/team': 'blue' }), 'none');
  assert.equal(withCondition({ StringEquals: { 'AWS:SOURCEIP': '10.0.0.1' } }, { 'aws:SourceIp': '10.0.0.1' }), 'allow');
});

test('...IfExists: a missing key passes, a present one is tested', () => {
  for (const [operator, key, values, context, expected] of CASES) {
    if (operator === 'Null') continue;
    const got = withCondition({ [`${operator}IfExists`]: { [key]: values } }, { [key]: context });
    const want = context === undefined ? true : expected;
    assert.equal(got, want ? 'allow' : 'none', `${operator}IfExists ${key} ${JSON.stringify(values)} vs ${JSON.stringify(context)}`);
  }
});

test('ForAnyValue / ForAllValues on multi-valued keys', () => {
  const tags = (v: string[] | undefined) => ({ 'aws:TagKeys': v });
  const anyOf = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } };
  assert.equal(withCondition(anyOf, tags(['x', 'b'])), 'allow');
  assert.equal(withCondition(anyOf, tags(['x', 'y'])), 'none');
  assert.equal(withCondition(anyOf, tags(undefined)), 'none');
  assert.equal(withCondition(anyOf, tags([])), 'none');
  const allOf = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } };
  assert.equal(withCondition(allOf, tags(['a', 'b', 'a'])), 'allow');
  assert.equal(withCondition(allOf, tags(['a', 'c'])), 'none');
  assert.equal(withCondition(allOf, tags(undefined)), 'allow'); // vacuously true, as in AWS
  assert.equal(withCondition(allOf, tags([])), 'allow');
  // Negated operators under a qualifier apply per request value.
  const anyNot = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['a', 'b'] } };
  assert.equal(withCondition(anyNot, tags(['a', 'c'])), 'allow');
  assert.equal(withCondition(anyNot, tags(['a', 'b'])), 'none');
  assert.equal(withCondition(anyNot, tags(undefined)), 'none');
  const allNot = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': ['secret*'] } };
  assert.equal(withCondition(allNot, tags(['a', 'c'])), 'allow');
  assert.equal(withCondition(allNot, tags(['a', 'secret-x'])), 'none');
  // Without a qualifier, a multi-valued key matches when any value does; negated, when none does.
  assert.equal(withCondition({ StringEquals: { 'aws:TagKeys': 'b' } }, tags(['a', 'b'])), 'allow');
  assert.equal(withCondition({ StringNotEquals: { 'aws:TagKeys': 'b' } }, tags(['a', 'b'])), 'none');
  assert.equal(withCondition({ StringNotEquals: { 'aws:TagKeys': 'z' } }, tags(['a', 'b'])), 'allow');
  assert.equal(withCondition({ 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'a*' } }, tags(undefined)), 'allow');
});

test('blocks: every operator and key must hold (AND), any value of a key (OR); keys case-insensitive', () => {
  const cond = {
    StringEquals: { 's3:prefix': ['home/', 'docs/'], 's3:delimiter': '/' },
    NumericLessThanEquals: { 's3:max-keys': 100 },
  };
  const base = { 's3:prefix': 'docs/', 's3:delimiter': '/', 's3:max-keys': '50' };
  assert.equal(withCondition(cond, base), 'allow');
  assert.equal(withCondition(cond, { ...base, 's3:prefix': 'tmp/' }), 'none');
  assert.equal(withCondition(cond, { ...base, 's3:delimiter': undefined }), 'none');
  assert.equal(withCondition(cond, { ...base, 's3:max-keys': '1000' }), 'none');
  assert.equal(withCondition(cond, { 'S3:PREFIX': 'home/', 'S3:Delimiter': '/', 's3:MAX-KEYS': '1' }), 'allow');
  assert.equal(withCondition({ StringEquals: { 'AWS:USERAGENT': 'x' } }, { 'aws:useragent': 'x' }), 'allow');
});

test('aws:PrincipalAccount defaults to the caller; the context can still say otherwise', () => {
  const p = policy({ ...anyObject, Condition: { StringEquals: { 'aws:PrincipalAccount': ALICE } } });
  assert.equal(evaluatePolicy(p, req({ accountId: ALICE })), 'allow');
  assert.equal(evaluatePolicy(p, req({ accountId: BOB })), 'none');
  assert.equal(evaluatePolicy(p, req({ accountId: null })), 'none');
  assert.equal(evaluatePolicy(p, req({ accountId: BOB, context: { 'aws:PrincipalAccount': ALICE } })), 'allow');
});

test('AWS documentation examples', () => {
  // Allow from a range except one address (S3 user guide, "Restricting access to specific IP addresses").
  const ip = policy({ ...anyObject, Action: 's3:*', Condition: { IpAddress: { 'aws:SourceIp': '54.240.143.0/24' }, NotIpAddress: { 'aws:SourceIp': '54.240.143.188/32' } } });
  assert.equal(evaluatePolicy(ip, req({ context: { 'aws:SourceIp': '54.240.143.1' } })), 'allow');
  assert.equal(evaluatePolicy(ip, req({ context: { 'aws:SourceIp': '54.240.143.188' } })), 'none');
  assert.equal(evaluatePolicy(ip, req({ context: {} })), 'none');
  // Deny plain HTTP.
  const tls = policy(anyObject, { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  assert.equal(evaluatePolicy(tls, req({ context: { 'aws:SecureTransport': 'false' } })), 'deny');
  assert.equal(evaluatePolicy(tls, req({ context: { 'aws:SecureTransport': 'true' } })), 'allow');
  // Let a user list only their home folder.
  const home = policy({ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 's3:ListBucket', Resource: BUCKET_ARN, Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/alice/*'] } } });
  const list = (prefix: string | undefined) => evaluatePolicy(home, req({ accountId: ALICE, action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': prefix } }));
  assert.equal(list('home/alice/photos/'), 'allow');
  assert.equal(list('home/bob/'), 'none');
  assert.equal(list(''), 'allow');
  assert.equal(list(undefined), 'none');
  // Time window.
  const window = policy({ ...anyObject, Condition: { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2026-02-01T00:00:00Z' } } });
  assert.equal(evaluatePolicy(window, req({ context: { 'aws:CurrentTime': '2026-01-15T12:00:00Z' } })), 'allow');
  assert.equal(evaluatePolicy(window, req({ context: { 'aws:CurrentTime': '2026-02-15T12:00:00Z' } })), 'none');
});

test('evaluation is fast: a 21-statement policy, 20k requests', () => {
  const statements = [];
  for (let i = 0; i < 20; i++) {
    statements.push({ Effect: 'Allow', Principal: { AWS: [BOB, `arn:aws:iam::${ALICE}:root`] }, Action: ['s3:Get*', 's3:List*'], Resource: [`arn:aws:s3:::b/team${i}/*`, 'arn:aws:s3:::b'], Condition: { StringLike: { 's3:prefix': `team${i}/*` }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
  }
  statements.push({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  const p = policy(...statements);
  const r = req({ accountId: ALICE, resource: 'arn:aws:s3:::b/team7/x', context: { 'aws:SourceIp': '10.1.2.3', 'aws:SecureTransport': 'true', 's3:prefix': 'team7/' } });
  assert.equal(evaluatePolicy(p, r), 'allow');
  assert.equal(evaluatePolicy(p, { ...r, context: { ...r.context, 'aws:SecureTransport': 'false' } }), 'deny');
  const start = performance.now();
  for (let i = 0; i < 20_000; i++) evaluatePolicy(p, r);
  const perCall = ((performance.now() - start) * 1000) / 20_000;
  // About 3 µs on an idle core; the bound only catches blow-ups, not a loaded machine.
  assert.ok(perCall < 100, `${perCall.toFixed(2)} µs per evaluation`);
});

test('wildcard matching agrees with a reference regex, and stays fast on hostile patterns', () => {
  const reference = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 's');
  fc.assert(
    fc.property(fc.stringMatching(/^[ab*?/]{0,8}$/), fc.stringMatching(/^[ab/]{0,10}$/), (pattern, s) => {
      assert.equal(compileWildcards([pattern], false).test(s), reference(pattern).test(s), `${pattern} vs ${s}`);
    }),
    { numRuns: 3000, seed: 9 },
  );
  const hostile = policy({ ...anyObject, Resource: `arn:aws:s3:::b/${'*a'.repeat(40)}*c` });
  const start = performance.now();
  assert.equal(evaluatePolicy(hostile, req({ resource: `arn:aws:s3:::b/${'a'.repeat(1024)}` })), 'none');
  assert.ok(performance.now() - start < 50, 'no catastrophic backtracking');
});
