import { S3Error } from './errors.ts';
import type { Handler, S3Context } from './context.ts';
import { createBucket, deleteBucket, getBucketLocation, getBucketVersioning, headBucket, listBuckets } from './handlers/bucket.ts';
import { putObject } from './handlers/object-put.ts';
import { getObject, headObject } from './handlers/object-get.ts';
import { copyObject } from './handlers/object-copy.ts';
import { deleteObject, deleteObjects } from './handlers/object-delete.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './handlers/multipart.ts';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './handlers/acl.ts';
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './handlers/policy.ts';
import { deletePublicAccessBlock, getPublicAccessBlock, putPublicAccessBlock } from './handlers/public-access-block.ts';
import { deleteBucketCors, getBucketCors, preflight, putBucketCors } from './handlers/cors.ts';
import { postObject } from './handlers/post-object.ts';
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  putBucketTagging,
  putObjectTagging,
} from './handlers/tagging.ts';
import { listObjectsV1, listObjectsV2, listObjectVersions } from './handlers/list-objects.ts';

// Every S3 operation the gateway knows: how a request (method, bucket?, key?, sub-resources)
// selects one, its handler, and the IAM action the access decision checks. Anything unlisted is
// NotImplemented, never a silent 200.

export interface Route {
  handler: Handler;
  /** The IAM action checked against the bucket (or, with a key, the object) before the handler runs. */
  action: string;
  /**
   * 'request' (default): the gateway decides from the request's signature. 'self': the handler
   * authenticates and authorizes itself (CORS preflights, browser form uploads).
   */
  access?: 'request' | 'self';
}

const ROUTES = {
  ListBuckets: { handler: listBuckets, action: 's3:ListAllMyBuckets' },
  CreateBucket: { handler: createBucket, action: 's3:CreateBucket' },
  HeadBucket: { handler: headBucket, action: 's3:ListBucket' },
  DeleteBucket: { handler: deleteBucket, action: 's3:DeleteBucket' },
  GetBucketLocation: { handler: getBucketLocation, action: 's3:GetBucketLocation' },
  GetBucketVersioning: { handler: getBucketVersioning, action: 's3:GetBucketVersioning' },
  ListObjects: { handler: listObjectsV1, action: 's3:ListBucket' },
  ListObjectsV2: { handler: listObjectsV2, action: 's3:ListBucket' },
  ListObjectVersions: { handler: listObjectVersions, action: 's3:ListBucketVersions' },
  // Each key is checked again against s3:DeleteObject by the handler.
  DeleteObjects: { handler: deleteObjects, action: 's3:DeleteObject' },
  PutObject: { handler: putObject, action: 's3:PutObject' },
  // The copy source is checked against s3:GetObject by the handler.
  CopyObject: { handler: copyObject, action: 's3:PutObject' },
  GetObject: { handler: getObject, action: 's3:GetObject' },
  HeadObject: { handler: headObject, action: 's3:GetObject' },
  DeleteObject: { handler: deleteObject, action: 's3:DeleteObject' },
  PostObject: { handler: postObject, action: 's3:PutObject', access: 'self' },
  CreateMultipartUpload: { handler: createMultipartUpload, action: 's3:PutObject' },
  UploadPart: { handler: uploadPart, action: 's3:PutObject' },
  UploadPartCopy: { handler: uploadPartCopy, action: 's3:PutObject' },
  CompleteMultipartUpload: { handler: completeMultipartUpload, action: 's3:PutObject' },
  AbortMultipartUpload: { handler: abortMultipartUpload, action: 's3:AbortMultipartUpload' },
  ListParts: { handler: listParts, action: 's3:ListMultipartUploadParts' },
  ListMultipartUploads: { handler: listMultipartUploads, action: 's3:ListBucketMultipartUploads' },
  GetBucketAcl: { handler: getBucketAcl, action: 's3:GetBucketAcl' },
  PutBucketAcl: { handler: putBucketAcl, action: 's3:PutBucketAcl' },
  GetObjectAcl: { handler: getObjectAcl, action: 's3:GetObjectAcl' },
  PutObjectAcl: { handler: putObjectAcl, action: 's3:PutObjectAcl' },
  GetBucketPolicy: { handler: getBucketPolicy, action: 's3:GetBucketPolicy' },
  PutBucketPolicy: { handler: putBucketPolicy, action: 's3:PutBucketPolicy' },
  DeleteBucketPolicy: { handler: deleteBucketPolicy, action: 's3:DeleteBucketPolicy' },
  GetBucketPolicyStatus: { handler: getBucketPolicyStatus, action: 's3:GetBucketPolicyStatus' },
  GetPublicAccessBlock: { handler: getPublicAccessBlock, action: 's3:GetBucketPublicAccessBlock' },
  PutPublicAccessBlock: { handler: putPublicAccessBlock, action: 's3:PutBucketPublicAccessBlock' },
  DeletePublicAccessBlock: { handler: deletePublicAccessBlock, action: 's3:PutBucketPublicAccessBlock' },
  GetBucketCors: { handler: getBucketCors, action: 's3:GetBucketCORS' },
  PutBucketCors: { handler: putBucketCors, action: 's3:PutBucketCORS' },
  DeleteBucketCors: { handler: deleteBucketCors, action: 's3:PutBucketCORS' },
  PreflightRequest: { handler: preflight, action: '', access: 'self' },
  GetObjectTagging: { handler: getObjectTagging, action: 's3:GetObjectTagging' },
  PutObjectTagging: { handler: putObjectTagging, action: 's3:PutObjectTagging' },
  DeleteObjectTagging: { handler: deleteObjectTagging, action: 's3:DeleteObjectTagging' },
  GetBucketTagging: { handler: getBucketTagging, action: 's3:GetBucketTagging' },
  PutBucketTagging: { handler: putBucketTagging, action: 's3:PutBucketTagging' },
  DeleteBucketTagging: { handler: deleteBucketTagging, action: 's3:PutBucketTagging' },
} satisfies Record<string, Route>;

export type Operation = keyof typeof ROUTES;

export function routeOf(op: Operation): Route {
  return ROUTES[op];
}

/** Query parameters that name a sub-resource (an operation of its own) rather than an option. */
const SUB_RESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering',
  'inventory', 'legal-hold', 'lifecycle', 'location', 'logging', 'metadataConfiguration', 'metrics',
  'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy', 'policyStatus',
  'publicAccessBlock', 'renameObject', 'replication', 'requestPayment', 'restore', 'retention', 'select',
  'session', 'tagging', 'torrent', 'uploadId', 'uploads', 'versioning', 'versions', 'website',
];

function subResource(query: URLSearchParams): string | undefined {
  for (const name of SUB_RESOURCES) if (query.has(name)) return name;
  return undefined;
}

export interface RouteInput {
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: URLSearchParams;
  hasCopySource: boolean;
  /** The body is an HTML form (multipart/form-data): a browser upload. */
  isForm: boolean;
}

/** The operation a request asks for; NotImplemented / MethodNotAllowed when there is none. */
export function resolveOperation(r: RouteInput): Operation {
  const sub = subResource(r.query);
  const m = r.method;
  if (r.bucket === undefined) {
    if (m === 'GET' && sub === undefined) return 'ListBuckets';
    throw notImplemented(sub);
  }
  if (r.key === undefined) {
    switch (m) {
      case 'GET':
        if (sub === undefined) return r.query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
        if (sub === 'location') return 'GetBucketLocation';
        if (sub === 'versioning') return 'GetBucketVersioning';
        if (sub === 'versions') return 'ListObjectVersions';
        if (sub === 'uploads') return 'ListMultipartUploads';
        if (sub === 'acl') return 'GetBucketAcl';
        if (sub === 'policy') return 'GetBucketPolicy';
        if (sub === 'policyStatus') return 'GetBucketPolicyStatus';
        if (sub === 'publicAccessBlock') return 'GetPublicAccessBlock';
        if (sub === 'cors') return 'GetBucketCors';
        if (sub === 'tagging') return 'GetBucketTagging';
        break;
      case 'HEAD':
        if (sub === undefined) return 'HeadBucket';
        break;
      case 'PUT':
        if (sub === undefined) return 'CreateBucket';
        if (sub === 'acl') return 'PutBucketAcl';
        if (sub === 'policy') return 'PutBucketPolicy';
        if (sub === 'publicAccessBlock') return 'PutPublicAccessBlock';
        if (sub === 'cors') return 'PutBucketCors';
        if (sub === 'tagging') return 'PutBucketTagging';
        break;
      case 'DELETE':
        if (sub === undefined) return 'DeleteBucket';
        if (sub === 'policy') return 'DeleteBucketPolicy';
        if (sub === 'publicAccessBlock') return 'DeletePublicAccessBlock';
        if (sub === 'cors') return 'DeleteBucketCors';
        if (sub === 'tagging') return 'DeleteBucketTagging';
        break;
      case 'POST':
        if (sub === 'delete') return 'DeleteObjects';
        if (sub === undefined && r.isForm) return 'PostObject';
        break;
      case 'OPTIONS':
        return 'PreflightRequest';
      default:
        throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'BUCKET' });
    }
    throw notImplemented(sub);
  }
  switch (m) {
    case 'GET':
      if (sub === undefined || sub === 'partNumber') return 'GetObject';
      if (sub === 'uploadId') return 'ListParts';
      if (sub === 'acl') return 'GetObjectAcl';
      if (sub === 'tagging') return 'GetObjectTagging';
      break;
    case 'HEAD':
      if (sub === undefined || sub === 'partNumber') return 'HeadObject';
      break;
    case 'PUT':
      if (sub === undefined) return r.hasCopySource ? 'CopyObject' : 'PutObject';
      if (sub === 'acl') return 'PutObjectAcl';
      if (sub === 'tagging') return 'PutObjectTagging';
      if ((sub === 'partNumber' || sub === 'uploadId') && r.query.has('partNumber') && r.query.has('uploadId')) {
        return r.hasCopySource ? 'UploadPartCopy' : 'UploadPart';
      }
      break;
    case 'DELETE':
      if (sub === undefined) return 'DeleteObject';
      if (sub === 'uploadId') return 'AbortMultipartUpload';
      if (sub === 'tagging') return 'DeleteObjectTagging';
      break;
    case 'POST':
      if (sub === 'uploads') return 'CreateMultipartUpload';
      if (sub === 'uploadId') return 'CompleteMultipartUpload';
      break;
    case 'OPTIONS':
      return 'PreflightRequest';
    default:
      throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'OBJECT' });
  }
  throw notImplemented(sub);
}

function notImplemented(sub: string | undefined): S3Error {
  return new S3Error('NotImplemented', sub ? `The ${sub} sub-resource is not implemented.` : undefined);
}

export async function dispatch(op: Operation, ctx: S3Context) {
  return ROUTES[op].handler(ctx);
}
