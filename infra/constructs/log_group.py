"""CloudWatch log groups encrypted with the platform key, with the environment's retention."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LOG_RETENTION_DAYS, PlatformConfig

# RetentionDays lists the same periods in the same order (then INFINITE, never used here).
_RETENTION = dict(zip(LOG_RETENTION_DAYS, list(logs.RetentionDays)[: len(LOG_RETENTION_DAYS)], strict=True))


def encrypted_log_group(
    scope: Construct, construct_id: str, *, config: PlatformConfig, encryption_key: kms.IKey, name: str | None = None
) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=encryption_key,
        retention=_RETENTION[config.environment.log_retention_days],
        removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
    )
