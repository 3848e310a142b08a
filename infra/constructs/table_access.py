"""Least-privilege DynamoDB access: the exact actions a function uses, on the exact table and indexes.

`table.grant_read_write_data` grants every data action and KMS wildcards
(kms:ReEncrypt*, kms:GenerateDataKey*) on the table and all its indexes; the
platform's functions instead name what they do.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")
# What DynamoDB needs from the caller to use a customer-managed key on its behalf.
_KMS_READ = ("kms:Decrypt", "kms:DescribeKey")
_KMS_WRITE = ("kms:Encrypt", "kms:GenerateDataKey")


def grant_table(
    role: iam.IRole,
    table: dynamodb.ITable,
    key: kms.IKey,
    *,
    actions: Iterable[str],
    indexes: Iterable[str] = (),
) -> None:
    """Grant `actions` on the table; Query on each named index."""
    chosen = tuple(actions)
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(chosen), resources=[table.table_arn]))
    index_arns = [f"{table.table_arn}/index/{name}" for name in indexes]
    if index_arns:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["dynamodb:Query"], resources=index_arns))
    writes = any(action in WRITE for action in chosen)
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=[*_KMS_READ, *(_KMS_WRITE if writes else ())], resources=[key.key_arn])
    )
