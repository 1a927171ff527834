// The s3: actions a bucket policy may name, and the kind of resource each one applies to
// (an object ARN `arn:aws:s3:::bucket/key`, the bucket ARN, or neither: account-level, access
// points, batch jobs, Storage Lens). Validation rejects unknown names ('Policy has invalid action')
// and statements whose actions apply to none of their resources.

export type ResourceKind = 'object' | 'bucket' | 'other';

const OBJECT = `AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectTagging DeleteObjectVersion
DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold GetObjectRetention
GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl GetObjectVersionAttributes
GetObjectVersionForReplication GetObjectVersionTagging GetObjectVersionTorrent InitiateReplication
ListMultipartUploadParts ObjectOwnerOverrideToBucketOwner PutObject PutObjectAcl PutObjectLegalHold
PutObjectRetention PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging ReplicateDelete ReplicateObject
ReplicateTags RestoreObject`;

const BUCKET = `CreateBucket CreateBucketMetadataTableConfiguration DeleteBucket DeleteBucketMetadataTableConfiguration
DeleteBucketOwnershipControls DeleteBucketPolicy DeleteBucketWebsite GetAccelerateConfiguration
GetAnalyticsConfiguration GetBucketAbac GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging
GetBucketMetadataTableConfiguration GetBucketNotification GetBucketObjectLockConfiguration
GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration
GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration GetMetricsConfiguration
GetReplicationConfiguration ListBucket ListBucketMultipartUploads ListBucketVersions PutAccelerateConfiguration
PutAnalyticsConfiguration PutBucketAbac PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock
PutBucketRequestPayment PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration
PutReplicationConfiguration`;

const OTHER = `CreateAccessPoint CreateAccessPointForObjectLambda CreateJob CreateMultiRegionAccessPoint
DeleteAccessPoint DeleteAccessPointPolicy DeleteJobTagging DeleteStorageLensConfiguration DescribeJob
GetAccessPoint GetAccessPointPolicy GetAccessPointPolicyStatus GetAccountPublicAccessBlock GetJobTagging
GetStorageLensConfiguration GetStorageLensDashboard ListAccessPoints ListAccessPointsForObjectLambda
ListAllMyBuckets ListJobs ListMultiRegionAccessPoints ListStorageLensConfigurations PutAccessPointPolicy
PutAccountPublicAccessBlock PutJobTagging PutStorageLensConfiguration UpdateJobPriority UpdateJobStatus`;

/** Lower-cased action name ('s3:getobject') -> the kind of resource it applies to. */
export const S3_ACTIONS: ReadonlyMap<string, ResourceKind> = new Map([
  ...names(OBJECT, 'object'),
  ...names(BUCKET, 'bucket'),
  ...names(OTHER, 'other'),
]);

function names(list: string, kind: ResourceKind): [string, ResourceKind][] {
  return list.split(/\s+/).filter(Boolean).map((n) => [`s3:${n.toLowerCase()}`, kind]);
}
