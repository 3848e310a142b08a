"""DynamoDB tables with the platform's defaults: on demand, platform KMS key, PITR,
deletion protection and retention outside dev."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import PlatformConfig
from infra.constructs.compliance import acknowledge


class PlatformTable(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        encryption_key: kms.IKey,
        table_name: str,
        partition_key: str,
        sort_key: str | None = None,
        time_to_live_attribute: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            time_to_live_attribute=time_to_live_attribute,
            stream=stream,
        )
        backups = (
            "Point-in-time recovery keeps continuous backups for 35 days; an AWS Backup plan is an "
            "organisation-level choice (vault, cross-account copies) made outside this application."
        )
        acknowledge(
            self.table,
            ("HIPAA.Security-DynamoDBInBackupPlan", backups),
            ("NIST.800.53.R5-DynamoDBInBackupPlan", backups),
        )
