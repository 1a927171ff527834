import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, PolicyError, MAX_POLICY_BYTES } from '../../src/iam/policy/index.ts';

// Validation of bucket policies: what PutBucketPolicy accepts, and the reason it gives otherwise.

const BUCKET = 'photos';
const ok = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*' };

function doc(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function rejects(text: string, message: string | RegExp): void {
  assert.throws(() => parsePolicy(text, BUCKET), (err: unknown) => {
    assert.ok(err instanceof PolicyError, `not a PolicyError: ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('a valid policy keeps its text and its statements', () => {
  const text = `{"Version":"2012-10-17","Id":"p1","Statement":[${JSON.stringify({ Sid: 'a', ...ok })}]}`;
  const p = parsePolicy(text, BUCKET);
  assert.equal(p.text, text);
  assert.equal(p.id, 'p1');
  assert.equal(p.statements.length, 1);
  assert.equal(p.statements[0]!.sid, 'a');
  assert.equal(p.statements[0]!.effect, 'Allow');
});

test('Statement may be a single object; Version may be 2008-10-17 or absent', () => {
  assert.equal(parsePolicy(JSON.stringify({ Statement: ok }), BUCKET).statements.length, 1);
  assert.equal(parsePolicy(JSON.stringify({ Version: '2008-10-17', Statement: ok }), BUCKET).version, '2008-10-17');
  rejects(JSON.stringify({ Version: '2020-01-01', Statement: ok }), 'Policy has invalid Version');
});

test('not JSON, or JSON that is no object -> invalid Json', () => {
  rejects('{"Statement": [', 'This policy contains invalid Json');
  rejects('', 'This policy contains invalid Json');
  rejects('[1,2]', 'This policy contains invalid Json');
  rejects('"x"', 'This policy contains invalid Json');
  rejects(JSON.stringify({ Statement: ['x'] }), 'This policy contains invalid Json');
});

test('size limit: 20 KiB', () => {
  const pad = (n: number) => JSON.stringify({ Id: 'x'.repeat(n), Statement: ok });
  const base = pad(0).length;
  assert.ok(parsePolicy(pad(MAX_POLICY_BYTES - base), BUCKET));
  rejects(pad(MAX_POLICY_BYTES - base + 1), 'Policy exceeds the maximum allowed document size');
});

test('unknown and missing fields', () => {
  rejects(JSON.stringify({ Statement: ok, Extra: 1 }), 'Unknown field Extra');
  rejects(doc({ ...ok, Actions: 's3:GetObject' }), 'Unknown field Actions');
  rejects(JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement');
  rejects(doc(), 'Missing required field Statement');
  const { Effect: _e, ...noEffect } = ok;
  rejects(doc(noEffect), 'Missing required field Effect');
  rejects(doc({ ...ok, Effect: 'allow' }), 'Invalid effect: allow');
  const { Principal: _p, ...noPrincipal } = ok;
  rejects(doc(noPrincipal), 'Missing required field Principal');
  const { Action: _a, ...noAction } = ok;
  rejects(doc(noAction), 'Missing required field Action');
  const { Resource: _r, ...noResource } = ok;
  rejects(doc(noResource), 'Missing required field Resource');
  rejects(doc({ ...ok, NotAction: 's3:PutObject' }), 'Statement cannot contain both Action and NotAction');
  rejects(doc({ ...ok, Sid: 5 }), 'Policy has invalid Sid');
});

test('actions: known s3 actions, any case, wildcards that match something', () => {
  for (const action of ['s3:GetObject', 'S3:getobject', 's3:*', '*', 's3:Get*', 's3:*Object', 's3:GetObjec?', ['s3:GetObject', 's3:PutObject']]) {
    assert.ok(parsePolicy(doc({ ...ok, Action: action }), BUCKET), JSON.stringify(action));
  }
  for (const action of ['s3:GetObjects', 'iam:GetUser', 'GetObject', 's3:Nothing*', '', [], ['s3:GetObject', 7]]) {
    rejects(doc({ ...ok, Action: action }), 'Policy has invalid action');
  }
});

test('resources must be the bucket or under it; wildcards allowed', () => {
  const bucketAction = { ...ok, Action: ['s3:GetObject', 's3:ListBucket'] };
  for (const r of ['arn:aws:s3:::photos', 'arn:aws:s3:::photos/*', 'arn:aws:s3:::photos/a/b.jpg', 'arn:aws:s3:::photo?/*', 'arn:aws:s3:::p*', 'arn:aws:s3:::*', '*', 'arn:aws:s3:::photos*']) {
    assert.ok(parsePolicy(doc({ ...bucketAction, Resource: r }), BUCKET), r);
  }
  for (const r of ['arn:aws:s3:::other/*', 'arn:aws:s3:::photosx/*', 'arn:aws:s3:::photos-*', 'photos/*', 'arn:aws:s3:::other', 'arn:aws:iam::123:root', '', 3]) {
    rejects(doc({ ...bucketAction, Resource: r }), 'Policy has invalid resource');
  }
  rejects(doc({ ...ok, Resource: ['arn:aws:s3:::photos/*', 'arn:aws:s3:::other/*'] }), 'Policy has invalid resource');
});

test('an action must apply to one of the resources', () => {
  rejects(doc({ ...ok, Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos' }), 'Action does not apply to any resource(s) in statement');
  rejects(doc({ ...ok, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::photos/*' }), 'Action does not apply to any resource(s) in statement');
  rejects(doc({ ...ok, Action: 's3:ListAllMyBuckets', Resource: ['arn:aws:s3:::photos', 'arn:aws:s3:::photos/*'] }), 'Action does not apply to any resource(s) in statement');
  rejects(doc({ ...ok, Action: 's3:*Bucket', Resource: 'arn:aws:s3:::photos/*' }), 'Action does not apply to any resource(s) in statement');
  // One action applying is enough (S3 accepts the common ListBucket-on-objects slip alongside it).
  assert.ok(parsePolicy(doc({ ...ok, Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::photos/*' }), BUCKET));
  assert.ok(parsePolicy(doc({ ...ok, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::photos*' }), BUCKET));
  assert.ok(parsePolicy(doc({ ...ok, Action: 's3:Get*', Resource: 'arn:aws:s3:::photos' }), BUCKET));
  // NotAction / NotResource are not checked this way.
  const { Action: _a, ...rest } = ok;
  assert.ok(parsePolicy(doc({ ...rest, NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::photos' }), BUCKET));
});

test('principals', () => {
  const valid = [
    '*',
    { AWS: '*' },
    { AWS: '0123456789abcdef0123456789abcdef' },
    { AWS: '123456789012' },
    { AWS: ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:role/r'] },
    { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
    { Service: 'logging.s3.amazonaws.com' },
    { AWS: 'abc', CanonicalUser: 'def' },
  ];
  for (const principal of valid) assert.ok(parsePolicy(doc({ ...ok, Principal: principal }), BUCKET), JSON.stringify(principal));
  const invalid = ['alice', '', {}, { AWS: [] }, { AWS: 'arn:aws:iam::*:root' }, { AWS: 'arn:aws:s3:::x' }, { AWS: 12 }, { Users: 'x' }, { CanonicalUser: 'a*' }, ['*']];
  for (const principal of invalid) rejects(doc({ ...ok, Principal: principal }), 'Invalid principal in policy');
  const { Principal: _p, ...rest } = ok;
  assert.ok(parsePolicy(doc({ ...rest, NotPrincipal: { AWS: '123456789012' } }), BUCKET));
});

test('conditions: operators, keys and values are validated', () => {
  const withCondition = (Condition: unknown) => doc({ ...ok, Condition });
  const valid = [
    { StringEquals: { 'aws:UserAgent': 'curl' } },
    { 'ForAnyValue:StringLikeIfExists': { 's3:prefix': ['a/*', 'b/*'] } },
    { 'ForAllValues:StringEquals': { 's3:ExistingObjectTag/team': 'x' } },
    { NumericLessThanEquals: { 's3:max-keys': 10 } },
    { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } },
    { DateLessThan: { 'aws:EpochTime': 1700000000 } },
    { Bool: { 'aws:SecureTransport': false } },
    { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1'] } },
    { Null: { 's3:x-amz-acl': 'true' } },
    { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::x*' } },
    { NotIpAddressIfExists: { 'AWS:SOURCEIP': '1.2.3.4/32' } },
  ];
  for (const c of valid) assert.ok(parsePolicy(withCondition(c), BUCKET), JSON.stringify(c));
  rejects(withCondition({ StringEqualz: { 'aws:UserAgent': 'x' } }), 'Invalid Condition operator StringEqualz');
  rejects(withCondition({ 'ForSomeValues:StringEquals': { 'aws:UserAgent': 'x' } }), 'Invalid Condition operator ForSomeValues:StringEquals');
  for (const op of ['toString', 'constructor', '__proto__', 'ForAnyValue:hasOwnProperty']) {
    rejects(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*","Condition":{"${op}":{"aws:UserAgent":"x"}}}}`, `Invalid Condition operator ${op}`);
  }
  rejects(withCondition({ 'ForAnyValue:ForAllValues:StringEquals': { 'aws:UserAgent': 'x' } }), 'Invalid Condition operator ForAnyValue:ForAllValues:StringEquals');
  rejects(withCondition({ NullIfExists: { 'aws:UserAgent': 'true' } }), 'Invalid Condition operator NullIfExists');
  rejects(withCondition({ StringEquals: { 'foo:bar': 'x' } }), 'Policy has an invalid condition key');
  rejects(withCondition({ StringEquals: { UserAgent: 'x' } }), 'Policy has an invalid condition key');
  rejects(withCondition({ NumericEquals: { 's3:max-keys': 'ten' } }), /^Invalid Condition value "ten" for operator NumericEquals$/);
  rejects(withCondition({ DateEquals: { 'aws:CurrentTime': 'yesterday' } }), /Invalid Condition value/);
  rejects(withCondition({ Bool: { 'aws:SecureTransport': 'yes' } }), /Invalid Condition value/);
  rejects(withCondition({ IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }), /Invalid Condition value/);
  rejects(withCondition({ IpAddress: { 'aws:SourceIp': 'localhost' } }), /Invalid Condition value/);
  rejects(withCondition({ Null: { 'aws:SourceIp': 'maybe' } }), /Invalid Condition value/);
  rejects(withCondition({ StringEquals: { 'aws:UserAgent': [] } }), /Invalid Condition value for operator StringEquals/);
  rejects(withCondition({ StringEquals: { 'aws:UserAgent': { a: 1 } } }), /Invalid Condition value for operator StringEquals/);
  rejects(withCondition({ StringEquals: {} }), /Invalid Condition block/);
  rejects(withCondition('x'), 'Invalid Condition block');
});
