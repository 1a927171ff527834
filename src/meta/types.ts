// The MetaStore owns every durable fact except object bytes. Two implementations
// (SQLite now, PostgreSQL later) pass one contract suite: test/meta/contract.ts.

export interface Bucket {
  name: string;
  /** Owning account id. */
  owner: string;
  region: string;
  createdAt: Date;
  /** The bucket's sub-resource settings (ACL, policy, CORS, ...); `{}` for a new bucket. */
  settings: BucketSettings;
}

// Access control records. Grantees are resolved when written (an e-mail becomes the account id).

export type Permission = 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP';

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };

export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export interface Tag {
  key: string;
  value: string;
}

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/**
 * A bucket's settings, stored as one document so new sub-resources need no schema change.
 * Absent fields are S3's defaults (an absent `acl` is the owner's FULL_CONTROL alone).
 */
export interface BucketSettings {
  acl?: Grant[];
  /** The bucket policy's JSON text, as the owner sent it. */
  policy?: string;
  publicAccessBlock?: PublicAccessBlock;
  cors?: CorsRule[];
  tags?: Tag[];
}

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 of the digest, as S3 sends it (composite values carry their `-N` suffix). */
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** One part of an object assembled by multipart upload. */
export interface ObjectPart {
  number: number;
  size: number;
  /** Hex MD5 without quotes. */
  etag: string;
  checksum?: Checksum;
  /** Where the ObjectEngine keeps this part's bytes (opaque to the store). */
  locator: string;
}

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** 'null' until versioning exists. */
  versionId: string;
  size: number;
  /** ETag without quotes: hex MD5, or `<hex>-N` for multipart objects. */
  etag: string;
  lastModified: Date;
  storageClass: string;
  owner: string;
  /** content-type, content-encoding, content-disposition, content-language, cache-control, expires (lower-case names). */
  contentHeaders: Record<string, string>;
  /** User metadata without the x-amz-meta- prefix, lower-case names. */
  userMetadata: Record<string, string>;
  checksum?: Checksum;
  /** Where the ObjectEngine keeps the bytes (opaque to the store); '' when `parts` holds them. */
  locator: string;
  /** Multipart objects: the parts in order, each with its own locator. */
  parts?: ObjectPart[];
  /** The object's grants, as GetObjectAcl shows them; absent: the owner's FULL_CONTROL alone. */
  acl?: Grant[];
  /** Object tags (at most 10), in the order they were given. */
  tags?: Tag[];
}

/** What PutObjectAcl / PutObjectTagging change on the current version; `null` clears. */
export interface ObjectAttributesChange {
  acl?: Grant[] | null;
  tags?: Tag[] | null;
}

export interface ListOptions {
  prefix: string;
  /** Roll keys up to CommonPrefixes at the first delimiter after the prefix. */
  delimiter?: string;
  /** Exclusive start: only keys (and common prefixes) after this one; a common prefix here skips all its keys. */
  after?: string;
  /** 1..1000 entries (objects plus common prefixes). 0 answers an empty, untruncated page. */
  limit: number;
}

/** What a listing shows of an object: no headers, metadata or data locators to load and parse. */
export type ObjectSummary = Pick<ObjectVersion, 'key' | 'size' | 'etag' | 'lastModified' | 'storageClass' | 'owner' | 'checksum'>;

export interface ListPage {
  /** Objects and common prefixes in UTF-8 byte order of key, counted together against the limit. */
  entries: Array<{ object: ObjectSummary } | { prefix: string }>;
  isTruncated: boolean;
  /** The last key or common prefix returned, for the next page's `after` (set when truncated). */
  next?: string;
}

export type PutCondition = {
  /** If-None-Match: * -- only when the key does not exist. */
  ifNoneMatch?: boolean;
  /** If-Match: the current ETag (without quotes) must equal this; '*' matches any current version. */
  ifMatch?: string;
};

export type PutOutcome =
  | { status: 'ok'; previous?: ObjectVersion }
  | { status: 'precondition-failed' }
  /** If-Match on a key that does not exist. */
  | { status: 'missing' };

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  owner: string;
  storageClass: string;
  contentHeaders: Record<string, string>;
  userMetadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
  /** ACL and tags the completed object will get. */
  acl?: Grant[];
  tags?: Tag[];
}

export interface UploadPart extends ObjectPart {
  lastModified: Date;
}

export interface UploadListOptions {
  prefix: string;
  delimiter?: string;
  /**
   * Exclusive start, as S3's key-marker + upload-id-marker. Uploads are ordered by key, then initiation
   * time, then upload id. Without upload-id-marker: keys after key-marker. With it: also the uploads of
   * key-marker after that upload (or, if it no longer exists, those whose id sorts after it).
   */
  keyMarker?: string;
  uploadIdMarker?: string;
  limit: number;
}

export interface UploadListPage {
  entries: Array<{ upload: MultipartUpload } | { prefix: string }>;
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/**
 * Keys, prefixes, delimiters and markers must be well-formed Unicode (no lone surrogates); methods
 * throw a TypeError otherwise. Writes into a bucket that does not exist (putObject, createUpload,
 * completeUpload) throw NoSuchBucketError (./errors.ts).
 */
export interface Account {
  id: string;
  displayName: string;
  /** Unique when set (lower-cased). */
  email?: string;
  status: 'active' | 'suspended';
  isAdmin: boolean;
  createdAt: Date;
  /** scrypt hash for console login (`scrypt$N$r$p$salt$hash`), when the account has a password. */
  passwordHash?: string;
  /** Requests per second for this account's keys, overriding the server default. */
  rateLimit?: number;
  /** Most buckets this account may own, overriding the server default. */
  maxBuckets?: number;
}

export interface AccessKey {
  accessKeyId: string;
  accountId: string;
  /** The secret, encrypted under the server master key (never stored in clear). */
  sealedSecret: string;
  status: 'Active' | 'Inactive';
  createdAt: Date;
  lastUsed?: Date;
}

/** What an account update may change; `rateLimit: null` returns the account to the server default. */
export type AccountChange = Partial<Omit<Account, 'id' | 'createdAt' | 'rateLimit' | 'maxBuckets'>> & {
  rateLimit?: number | null;
  maxBuckets?: number | null;
};

/**
 * A share link (src/share/): whoever holds its token may read one object, or list and read one folder,
 * with its owner's access, until it expires or is revoked.
 */
export interface ShareLink {
  /** Public id, for listing and revoking (not a secret). */
  id: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  tokenHash: string;
  /** The account whose access the link lends (checked again at every download). */
  owner: string;
  bucket: string;
  /** 'object': `key` is the object's key. 'prefix': `key` is the folder's prefix ('' = the whole bucket). */
  kind: 'object' | 'prefix';
  key: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Most access keys one account may hold, as Amazon IAM users. */
export const MAX_KEYS_PER_ACCOUNT = 10;

export interface MetaStore {
  // Accounts and access keys
  /** 'exists' when the id, or the email, is taken. */
  createAccount(account: Account): Promise<'created' | 'exists'>;
  getAccount(id: string): Promise<Account | undefined>;
  getAccountByEmail(email: string): Promise<Account | undefined>;
  listAccounts(): Promise<Account[]>;
  /** Changes status, name, admin flag, password or rate limit; false when the account is unknown. */
  updateAccount(id: string, change: AccountChange): Promise<boolean>;
  /** 'limit' when the account already holds MAX_KEYS_PER_ACCOUNT keys; 'missing' when the account is unknown. */
  createAccessKey(key: AccessKey): Promise<'created' | 'exists' | 'limit' | 'missing'>;
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  listAccessKeys(accountId: string): Promise<AccessKey[]>;
  /** Changes status (or the sealed secret, on master-key rotation); false when unknown. */
  updateAccessKey(accessKeyId: string, change: Partial<Pick<AccessKey, 'status' | 'sealedSecret' | 'lastUsed'>>): Promise<boolean>;
  deleteAccessKey(accessKeyId: string): Promise<boolean>;

  // Buckets
  /** 'exists' when a bucket of that name exists already (whoever owns it). */
  createBucket(bucket: Bucket): Promise<'created' | 'exists'>;
  getBucket(name: string): Promise<Bucket | undefined>;
  /** Buckets of one owner (all when owner is undefined), by name. */
  listBuckets(owner?: string): Promise<Bucket[]>;
  /**
   * Atomically replaces a bucket's settings with `change(current)`; false when the bucket is gone.
   * `change` runs inside the write (keep it quick and synchronous; throwing aborts the update).
   */
  updateBucketSettings(name: string, change: (current: BucketSettings) => BucketSettings): Promise<boolean>;
  /** Refuses while any object exists; drops pending uploads and returns their parts' locators. */
  deleteBucket(name: string): Promise<{ status: 'deleted'; orphanLocators: string[] } | { status: 'not-empty' } | { status: 'missing' }>;

  // Objects
  /**
   * The current version. With `{ locators: false }` (HEAD: nothing will be read) the object's own
   * `locator` may come back as '' instead of being loaded. The record may be shared with other
   * callers (a cache): it is read-only, and may be frozen.
   */
  getObject(bucket: string, key: string, options?: { locators?: boolean }): Promise<ObjectVersion | undefined>;
  /** Atomically checks the condition and replaces the current version; returns the one replaced. */
  putObject(object: ObjectVersion, condition?: PutCondition): Promise<PutOutcome>;
  /**
   * Changes the ACL or tags of the current version, leaving everything else (ETag, last-modified)
   * as it is. With `etag`, only if the current version still has it. The updated version, or
   * undefined when there is no (such) current version.
   */
  updateObjectAttributes(bucket: string, key: string, change: ObjectAttributesChange, etag?: string): Promise<ObjectVersion | undefined>;
  /** Removes the current version; returns it (undefined when there was none). */
  deleteObject(bucket: string, key: string): Promise<ObjectVersion | undefined>;
  listObjects(bucket: string, options: ListOptions): Promise<ListPage>;

  // Multipart uploads
  createUpload(upload: MultipartUpload): Promise<void>;
  getUpload(bucket: string, key: string, uploadId: string): Promise<MultipartUpload | undefined>;
  /** Adds or replaces a part; returns the replaced part. Fails with 'missing' if the upload is gone. */
  putPart(uploadId: string, part: UploadPart): Promise<{ status: 'ok'; previous?: UploadPart } | { status: 'missing' }>;
  /** Parts by number after `afterNumber` (exclusive), at most `limit`. */
  listParts(uploadId: string, afterNumber: number, limit: number): Promise<UploadPart[]>;
  listUploads(bucket: string, options: UploadListOptions): Promise<UploadListPage>;
  /**
   * Atomically: the upload must still exist; it and all its parts are removed and `object` becomes the
   * current version. Returns the replaced version and the parts that `object` does not use.
   * 'missing' also when the upload belongs to another bucket or key than `object`. A refused condition
   * (including If-Match on a key that does not exist) is 'precondition-failed' and keeps the upload.
   * A part is used when `object.parts` holds its locator.
   */
  completeUpload(uploadId: string, object: ObjectVersion, condition?: PutCondition): Promise<
    | { status: 'ok'; previous?: ObjectVersion; unusedParts: UploadPart[] }
    | { status: 'missing' }
    | { status: 'precondition-failed' }
  >;
  /** Removes the upload and its parts; returns the parts (their data is then deleted), or undefined if it was gone. */
  abortUpload(uploadId: string): Promise<UploadPart[] | undefined>;
  /** Uploads initiated before the given time (oldest first, all buckets), for expiry. */
  listUploadsInitiatedBefore(time: Date, limit: number): Promise<MultipartUpload[]>;

  // Share links (removed with their bucket)
  /** Throws NoSuchBucketError when the bucket does not exist. */
  createShare(link: ShareLink): Promise<void>;
  /** The link with this token hash, expired or not (the caller checks `expiresAt`). */
  getShareByTokenHash(tokenHash: string): Promise<ShareLink | undefined>;
  /** One account's links, oldest first, expired ones included until they are purged. */
  listShares(owner: string): Promise<ShareLink[]>;
  /** Removes the owner's link `id`; false when there is none (or it is another account's). */
  deleteShare(owner: string, id: string): Promise<boolean>;
  /** Purges links that expired at or before `now`; returns how many. */
  deleteExpiredShares(now: Date): Promise<number>;

  /**
   * Optional instrumentation for tests: rows read and queries run by listObjects/listUploads since
   * open. Lets the contract check that listings seek past common prefixes instead of reading the keys
   * under them.
   */
  debugCounters?(): { rowsRead: number; queries: number };

  /**
   * Every data locator the store refers to: objects' own, their parts', and pending uploads' parts.
   * The garbage collector keeps exactly these (mark and sweep). `skipPrefix` leaves out locators
   * that start with it: ones that hold their data themselves (inline objects) name nothing to keep,
   * and there can be millions of them, kilobytes each.
   */
  referencedLocators(options?: { skipPrefix?: string }): AsyncIterable<string>;

  /**
   * Atomically rewrites locators wherever they appear (objects, their parts, pending uploads' parts):
   * each one for which `replace` returns a string becomes that string. Returns how many changed.
   * Master key rotation uses it to re-wrap the data keys carried by inline locators.
   */
  replaceLocators(replace: (locator: string) => string | undefined): Promise<number>;

  close(): Promise<void>;
}
