"""The role and security configuration every Glue job of the platform runs with.

Job output, CloudWatch logs and job bookmarks are encrypted with the platform key
(a Glue security configuration), and the role may write only Glue's own log
groups. Data access is granted by the stack that wires the job, prefix by prefix.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs.compliance import acknowledge, acknowledge_grant_policy, wildcard_resource_finding


class GlueJobRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, description: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"), description=description
        )
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "Security",
            name=name,
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
            ),
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
        )
        log_groups = stack.format_arn(
            service="logs", resource="log-group", resource_name="/aws-glue/*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                resources=[log_groups],
            )
        )
        acknowledge_grant_policy(self.role)
        acknowledge(
            self.role,
            (
                wildcard_resource_finding(self, log_groups),
                "Glue names each run's log groups and streams itself, under /aws-glue/.",
            ),
        )

    def read_code(self, bucket_arn_for_object: str) -> None:
        """The exact code object of a job: no bucket-wide read on the CDK staging bucket."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket_arn_for_object])
        )

    def publish_job_metrics(self) -> None:
        """What `--enable-metrics` needs: Glue publishes a job's profiling metrics under the `Glue` namespace."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )
        acknowledge(
            self.role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "cloudwatch:PutMetricData has no resource-level permissions; it is limited to the Glue namespace.",
            ),
        )
