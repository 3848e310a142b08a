"""S3 buckets with the platform's secure defaults in one place.

Every data bucket is KMS-encrypted with the platform key, versioned, blocks
public access, refuses plain HTTP and logs its access to the log bucket. The log
bucket itself can only use SSE-S3: S3 server access logging does not deliver to
SSE-KMS buckets.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.compliance import acknowledge


class AccessLogBucket(Construct):
    """Target of the data buckets' server access logs."""

    def __init__(self, scope: Construct, construct_id: str, *, retain: bool, expire_after: Duration) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=expire_after,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not retain,
        )
        sse_s3_only = "S3 server access logging delivers only to SSE-S3 buckets; the logs hold no customer data."
        acknowledge(
            self.bucket,
            ("HIPAA.Security-S3DefaultEncryptionKMS", sse_s3_only),
            ("NIST.800.53.R5-S3DefaultEncryptionKMS", sse_s3_only),
            ("PCI.DSS.321-S3DefaultEncryptionKMS", sse_s3_only),
        )
        _acknowledge_replication(self.bucket)


class DataBucket(Construct):
    """A data-lake bucket: SSE-KMS with the platform key, versioned, TLS only, access-logged."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs: s3.IBucket,
        retain: bool,
        bucket_name: str | None = None,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,  # one KMS call per bucket key, not per object
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{construct_id.lower()}/",
            lifecycle_rules=list(lifecycle_rules),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            auto_delete_objects=not retain,
        )
        # Object events go to EventBridge, so a later stack reacts with a rule of its own instead of
        # editing this bucket's notifications (which would tie the stacks). Set on the L1: the L2 flag
        # deploys a notifications custom resource (a Lambda) for what CloudFormation does natively.
        cfn_bucket = self.bucket.node.default_child
        if not isinstance(cfn_bucket, s3.CfnBucket):
            raise TypeError(f"unexpected L1 resource {cfn_bucket!r}")
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
        )
        _acknowledge_replication(self.bucket)


def _acknowledge_replication(bucket: s3.Bucket) -> None:
    reason = (
        "Cross-region replication is a disaster-recovery choice per deployment (a second region and key); "
        "durability here comes from versioning, retention and S3's multi-AZ storage."
    )
    acknowledge(
        bucket,
        ("HIPAA.Security-S3BucketReplicationEnabled", reason),
        ("NIST.800.53.R5-S3BucketReplicationEnabled", reason),
        ("PCI.DSS.321-S3BucketReplicationEnabled", reason),
    )
