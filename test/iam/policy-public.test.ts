import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, isPublicPolicy, parsePolicy, PolicyError, publicReadPrefixes, withPublicRead } from '../../src/iam/policy/index.ts';

// "Is this policy public" (S3's definition) and the console's public-read switch.

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const putAll = { Principal: '*', Resource: '*', Action: 's3:PutObject', Effect: 'Allow' };

function policy(...statements: unknown[]) {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'b');
}

const isPublic = (...statements: unknown[]) => isPublicPolicy(policy(...statements));

test('public and non-public examples from the S3 user guide', () => {
  assert.equal(isPublic(putAll), true);
  assert.equal(isPublic({ ...putAll, Condition: { StringLike: { 'aws:SourceVpc': 'vpc-*' } } }), true);
  assert.equal(isPublic({ ...putAll, Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } } }), false);
  // A policy granting to fixed principals only is not public; adding a public statement makes it so.
  const fixed = { ...putAll, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } };
  assert.equal(isPublic(fixed), false);
  assert.equal(isPublic(fixed, putAll), true);
});

test('wildcard principals, NotPrincipal, and Deny statements', () => {
  assert.equal(isPublic({ ...putAll, Principal: { AWS: '*' } }), true);
  assert.equal(isPublic({ ...putAll, Principal: { AWS: [ACCOUNT, '*'] } }), true);
  assert.equal(isPublic({ ...putAll, Principal: { CanonicalUser: ACCOUNT } }), false);
  const { Principal: _p, ...rest } = putAll;
  assert.equal(isPublic({ ...rest, NotPrincipal: { AWS: ACCOUNT } }), true);
  assert.equal(isPublic({ ...putAll, Effect: 'Deny' }), false);
  assert.equal(isPublic({ ...putAll, Effect: 'Deny' }, { ...putAll, Principal: { AWS: ACCOUNT } }), false);
});

test('conditions that pin a listed key to fixed values make a statement non-public', () => {
  const pinned: Record<string, unknown>[] = [
    { StringEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:123:trail/t' } },
    { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:123:trail/t' } },
    { StringEquals: { 'aws:SourceVpce': ['vpce-1', 'vpce-2'] } },
    { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    { StringEquals: { 'aws:SourceOwner': '123456789012' } },
    { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } },
    { StringEquals: { 'AWS:PrincipalAccount': ACCOUNT } },
    { StringEqualsIgnoreCase: { 'aws:userid': 'AIDAEXAMPLE' } },
    { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:1:key/k' } },
    { 'ForAnyValue:StringEquals': { 'aws:SourceVpc': 'vpc-1' } },
    { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'] } },
    // Any pinning condition in the block is enough, whatever else it holds.
    { StringEquals: { 'aws:SourceVpc': 'vpc-1' }, Bool: { 'aws:SecureTransport': 'true' } },
  ];
  for (const Condition of pinned) assert.equal(isPublic({ ...putAll, Condition }), false, JSON.stringify(Condition));

  const notPinned: Record<string, unknown>[] = [
    { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
    { IpAddress: { 'aws:SourceIp': '10.0.0.0/7' } },
    { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/31'] } },
    { IpAddress: { 'aws:SourceIp': '::/0' } },
    { NotIpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
    { IpAddressIfExists: { 'aws:SourceIp': '192.0.2.0/24' } },
    { StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } },
    { StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } },
    { 'ForAllValues:StringEquals': { 'aws:SourceVpc': 'vpc-1' } },
    { StringEquals: { 'aws:SourceVpc': ['vpc-1', 'vpc-?'] } },
    { StringEquals: { 'aws:userid': '${aws:username}' } },
    { StringEquals: { 'aws:UserAgent': 'curl' } },
    { Bool: { 'aws:SecureTransport': 'true' } },
    { StringEquals: { 's3:x-amz-acl': 'private' } },
    { Null: { 'aws:SourceVpc': 'false' } },
  ];
  for (const Condition of notPinned) assert.equal(isPublic({ ...putAll, Condition }), true, JSON.stringify(Condition));
});

test('withPublicRead: whole bucket on, idempotent, off', () => {
  const on = withPublicRead(undefined, 'b', '', true)!;
  assert.deepEqual(JSON.parse(on.text), {
    Version: '2012-10-17',
    Statement: [{ Sid: 'oort-public-read:', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
  });
  assert.deepEqual(publicReadPrefixes(on), ['']);
  assert.equal(isPublicPolicy(on), true);
  assert.equal(evaluatePolicy(on, { accountId: null, action: 's3:GetObject', resource: 'arn:aws:s3:::b/any/key', context: {} }), 'allow');
  assert.equal(evaluatePolicy(on, { accountId: null, action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: {} }), 'none');
  assert.equal(withPublicRead(on, 'b', '', true), on, 'turning it on twice changes nothing');
  assert.equal(withPublicRead(on, 'b', '', false), undefined, 'nothing left: no policy');
  assert.equal(withPublicRead(undefined, 'b', '', false), undefined);
  assert.deepEqual(publicReadPrefixes(undefined), []);
});

test('withPublicRead: folders merge with the user\'s own statements, which are kept as written', () => {
  const own = { Sid: 'DenyHttp', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
  const user = parsePolicy(JSON.stringify({ Version: '2012-10-17', Id: 'mine', Statement: own }), 'b');
  assert.deepEqual(publicReadPrefixes(user), []);

  const one = withPublicRead(user, 'b', 'photos/', true)!;
  const two = withPublicRead(one, 'b', 'docs/2024 report/', true)!;
  assert.deepEqual(publicReadPrefixes(two), ['docs/2024 report/', 'photos/']);
  const doc = JSON.parse(two.text);
  assert.equal(doc.Id, 'mine');
  assert.deepEqual(doc.Statement[0], own);
  assert.equal(doc.Statement.length, 3);

  const get = (key: string, secure = 'true') =>
    evaluatePolicy(two, { accountId: null, action: 's3:GetObject', resource: `arn:aws:s3:::b/${key}`, context: { 'aws:SecureTransport': secure } });
  assert.equal(get('photos/cat.jpg'), 'allow');
  assert.equal(get('docs/2024 report/q1.pdf'), 'allow');
  assert.equal(get('docs/other.pdf'), 'none');
  assert.equal(get('photos/cat.jpg', 'false'), 'deny', 'the user\'s Deny still wins');

  assert.equal(withPublicRead(two, 'b', 'photos/', true), two);
  const back = withPublicRead(withPublicRead(two, 'b', 'photos/', false)!, 'b', 'docs/2024 report/', false)!;
  assert.deepEqual(JSON.parse(back.text), { Version: '2012-10-17', Id: 'mine', Statement: [own] });
  assert.deepEqual(publicReadPrefixes(back), []);
  assert.equal(withPublicRead(back, 'b', 'photos/', false), back, 'turning off what is off changes nothing');
});

test('withPublicRead: an edited switch statement is put back; wildcard prefixes are refused', () => {
  const edited = policy({ Sid: 'oort-public-read:a/', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/a/*' });
  const fixed = withPublicRead(edited, 'b', 'a/', true)!;
  assert.notEqual(fixed, edited);
  assert.deepEqual(JSON.parse(fixed.text).Statement, [{ Sid: 'oort-public-read:a/', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a/*' }]);
  assert.throws(() => withPublicRead(undefined, 'b', 'a*', true), PolicyError);
  assert.throws(() => withPublicRead(undefined, 'b', 'a?', true), PolicyError);
  // A statement merely named like the switch but denying is not shown as public.
  assert.deepEqual(publicReadPrefixes(policy({ Sid: 'oort-public-read:x/', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/x/*' })), []);
});
