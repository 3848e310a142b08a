"""Least-privilege access to one prefix of a data-lake bucket.

CDK's bucket.grant_read/grant_write give action wildcards (s3:GetObject*,
s3:List*, kms:ReEncrypt*) on the whole bucket. The platform's jobs and functions
each own a prefix, so they get exactly: s3:GetObject / s3:PutObject on the
prefix, s3:ListBucket limited to it, and the KMS actions that S3 needs.

Bucket ARNs are built from the bucket's deterministic name (not from its ARN
attribute), which keeps stacks free of cross-stack exports and lets the one
remaining wildcard, the objects under the prefix, be acknowledged by its exact
cdk-nag finding id.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from infra.constructs.compliance import acknowledge, wildcard_resource_finding


@dataclass(frozen=True)
class LakeBucket:
    """A data-lake bucket known by name: `prefix-<account>-suffix`."""

    name_prefix: str
    name_suffix: str
    key: kms.IKey

    @property
    def name(self) -> str:
        return f"{self.name_prefix}-{Aws.ACCOUNT_ID}-{self.name_suffix}"

    @property
    def arn(self) -> str:
        return f"arn:{Aws.PARTITION}:s3:::{self.name}"

    def objects_arn(self, prefix: str) -> str:
        return f"{self.arn}/{prefix}*"

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}"


def grant_prefix_read(role: iam.IRole, bucket: LakeBucket, prefix: str, *, why: str) -> None:
    """s3:GetObject under `prefix`, listing limited to it, kms:Decrypt."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.objects_arn(prefix)]))
    _list(role, bucket, prefix)
    role.add_to_principal_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[bucket.key.key_arn]))
    _acknowledge_objects(role, bucket, prefix, f"Reads every object under {prefix}: {why}")


def grant_prefix_write(role: iam.IRole, bucket: LakeBucket, prefix: str, *, why: str) -> None:
    """s3:PutObject (and multipart abort) under `prefix`, and the KMS actions that SSE-KMS writes need."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=[bucket.objects_arn(prefix)])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[bucket.key.key_arn])
    )
    _acknowledge_objects(role, bucket, prefix, f"Writes objects under {prefix}: {why}")


def grant_prefix_read_write(role: iam.IRole, bucket: LakeBucket, prefix: str, *, why: str) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resources=[bucket.objects_arn(prefix)],
        )
    )
    _list(role, bucket, prefix)
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[bucket.key.key_arn])
    )
    _acknowledge_objects(role, bucket, prefix, f"Reads and replaces objects under {prefix}: {why}")


def _list(role: iam.IRole, bucket: LakeBucket, prefix: str) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        )
    )


def _acknowledge_objects(role: iam.IRole, bucket: LakeBucket, prefix: str, reason: str) -> None:
    acknowledge(role, (wildcard_resource_finding(role, bucket.objects_arn(prefix)), reason))
