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
import { getBucketAcl, getObjectAcl } from './handlers/acl.ts';
import { getObjectTagging } from './handlers/tagging.ts';
import { listObjectsV1, listObjectsV2, listObjectVersions } from './handlers/list-objects.ts';

// Every S3 operation the gateway knows, and how a request (method, bucket?, key?, sub-resources)
// selects one. Anything unlisted is NotImplemented, never a silent 200.

export type Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'ListMultipartUploads'
  | 'GetBucketAcl'
  | 'GetObjectAcl'
  | 'GetObjectTagging';

export const HANDLERS: Record<Operation, Handler> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  ListObjects: listObjectsV1,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
  GetBucketAcl: getBucketAcl,
  GetObjectAcl: getObjectAcl,
  GetObjectTagging: getObjectTagging,
};

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
        break;
      case 'HEAD':
        if (sub === undefined) return 'HeadBucket';
        break;
      case 'PUT':
        if (sub === undefined) return 'CreateBucket';
        break;
      case 'DELETE':
        if (sub === undefined) return 'DeleteBucket';
        break;
      case 'POST':
        if (sub === 'delete') return 'DeleteObjects';
        break;
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
      if ((sub === 'partNumber' || sub === 'uploadId') && r.query.has('partNumber') && r.query.has('uploadId')) {
        return r.hasCopySource ? 'UploadPartCopy' : 'UploadPart';
      }
      break;
    case 'DELETE':
      if (sub === undefined) return 'DeleteObject';
      if (sub === 'uploadId') return 'AbortMultipartUpload';
      break;
    case 'POST':
      if (sub === 'uploads') return 'CreateMultipartUpload';
      if (sub === 'uploadId') return 'CompleteMultipartUpload';
      break;
    default:
      throw new S3Error('MethodNotAllowed', undefined, { Method: m, ResourceType: 'OBJECT' });
  }
  throw notImplemented(sub);
}

function notImplemented(sub: string | undefined): S3Error {
  return new S3Error('NotImplemented', sub ? `The ${sub} sub-resource is not implemented.` : undefined);
}

export async function dispatch(op: Operation, ctx: S3Context) {
  return HANDLERS[op](ctx);
}
