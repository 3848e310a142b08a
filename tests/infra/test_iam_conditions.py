"""IAM conditions over the synthesized templates of every environment at stage 5.

- `kms:CreateGrant` is allowed only with `kms:GrantIsForAWSResource` true: a role may let a
  service attach the key to a resource it manages, never hand the key to another principal;
- `iam:PassRole` is allowed only with `iam:PassedToService`: a role is passed to the service it
  was made for and no other;
- a key-policy statement for an AWS service principal names whose resources the service may use
  the key for: aws:SourceAccount, aws:SourceArn or the encryption context the service sends
  (a log group, topic, queue or bus ARN), with a value in this account. Without one, the service
  would use the key for any account's resources (the confused deputy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

import pytest

from infra.config import read_cdk_json_context
from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis

Statement = Mapping[str, Any]
THIS_ACCOUNT = json.dumps({"Ref": "AWS::AccountId"})
# Keys that say whose resources a service acts for (compared in lower case, as IAM does).
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn")
ENCRYPTION_CONTEXT_PREFIX = "kms:encryptioncontext:"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_statements(template: Mapping[str, Any]) -> Iterator[tuple[str, str, Statement]]:
    """(logical id, "identity" or "key", statement) for every policy document of a template."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        documents: list[tuple[str, Any]] = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(("identity", properties.get("PolicyDocument", {})))
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents.extend(("identity", policy["PolicyDocument"]) for policy in properties.get("Policies", []))
        if resource["Type"] == "AWS::KMS::Key":
            documents.append(("key", properties.get("KeyPolicy", {})))
        for kind, document in documents:
            for statement in _as_list(document.get("Statement", [])):
                yield logical_id, kind, statement


def _allows(statement: Statement, action: str) -> bool:
    """Whether an Allow statement grants `action`, wildcards and NotAction included."""
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:
        return not any(fnmatchcase(action.lower(), p.lower()) for p in _as_list(statement["NotAction"]))
    return any(fnmatchcase(action.lower(), p.lower()) for p in _as_list(statement.get("Action", [])))


def _conditions(statement: Statement) -> dict[str, Any]:
    """Condition key (lower case) -> value, across operators."""
    return {key.lower(): value for by_key in statement.get("Condition", {}).values() for key, value in by_key.items()}


def _is_account_root_delegation(statement: Statement) -> bool:
    """The key policy's statement that hands the key's control to this account's IAM policies (checked here)."""
    principals = statement.get("Principal", {})
    return set(principals) == {"AWS"} and all(":root" in json.dumps(p) for p in _as_list(principals["AWS"]))


def _names_this_account(value: Any, account: str | None) -> bool:
    text = json.dumps(value)
    return THIS_ACCOUNT in text or (account is not None and account in text)


def condition_problems(templates: Mapping[str, Mapping[str, Any]], account: str | None = None) -> list[str]:
    """One line per statement that lacks the condition its action or principal needs."""
    problems = []
    for stack, template in templates.items():
        for logical_id, kind, statement in _policy_statements(template):
            where = f"{stack}/{logical_id}"
            conditions = _conditions(statement)
            if kind == "key" and _is_account_root_delegation(statement):
                continue
            if _allows(statement, "kms:CreateGrant") and str(conditions.get("kms:grantisforawsresource")).lower() != (
                "true"
            ):
                problems.append(f"{where}: kms:CreateGrant without kms:GrantIsForAWSResource true")
            if _allows(statement, "iam:PassRole") and "iam:passedtoservice" not in conditions:
                problems.append(f"{where}: iam:PassRole without iam:PassedToService")
            services = _as_list(statement.get("Principal", {}).get("Service", []))
            if kind == "key" and services and statement.get("Effect") == "Allow":
                sources = [
                    value
                    for key, value in conditions.items()
                    if key in SOURCE_KEYS or key.startswith(ENCRYPTION_CONTEXT_PREFIX)
                ]
                if not any(_names_this_account(value, account) for value in sources):
                    problems.append(
                        f"{where}: key policy lets {', '.join(map(str, services))} use the key "
                        "with no source condition in this account"
                    )
    return problems


def _account(env: str) -> str | None:
    account: str | None = read_cdk_json_context()["omni:environments"][env].get("account")
    return account


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_grant_passrole_and_service_key_statement_is_conditioned(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    templates = syntheses[env, Stage.SEAMLESS].templates
    assert templates, "nothing synthesized"
    assert condition_problems(templates, _account(env)) == []
    # and the check had something to look at: each kind of statement exists at stage 5
    statements = [(kind, s) for t in templates.values() for _, kind, s in _policy_statements(t)]
    assert any(_allows(s, "kms:CreateGrant") for kind, s in statements if kind == "identity")
    assert any(_allows(s, "iam:PassRole") for kind, s in statements if kind == "identity")
    assert sum(1 for kind, s in statements if kind == "key" and "Service" in s.get("Principal", {})) >= 5


def test_the_game_day_templates_keep_the_conditions(game_days: Synthesis) -> None:
    # The experiment role, its log delivery and the targets' new grants, with game days enabled.
    assert game_days.templates, game_days.error
    assert condition_problems(game_days.templates, _account(game_days.env)) == []


THIS = {"Ref": "AWS::AccountId"}
KEY_ADMIN = {"Effect": "Allow", "Principal": {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", THIS, ":root"]]}}}
PLANTED = {
    "planted": {
        "Resources": {
            "Grants": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*"},
                            {"Effect": "Allow", "Action": "kms:Create*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*"},  # a Deny is fine
                        ]
                    }
                },
            },
            "Passes": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": "pass",
                            "PolicyDocument": {
                                "Statement": [
                                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
                                    {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
                                ]
                            },
                        }
                    ]
                },
            },
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeyPolicy": {
                        "Statement": [
                            {**KEY_ADMIN, "Action": "kms:*", "Resource": "*"},
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": ["cloudwatch.amazonaws.com"]},
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                            },
                            {  # a source condition that names no account of ours
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                                "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/*"}},
                            },
                            {  # a condition, but not on the source
                                "Effect": "Allow",
                                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                                "Action": "kms:Decrypt",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"kms:CallerAccount": THIS}},
                            },
                        ]
                    }
                },
            },
        }
    }
}


def test_the_check_names_each_planted_unconditioned_statement() -> None:
    assert condition_problems(PLANTED) == [
        "planted/Grants: kms:CreateGrant without kms:GrantIsForAWSResource true",
        "planted/Grants: kms:CreateGrant without kms:GrantIsForAWSResource true",
        "planted/Passes: iam:PassRole without iam:PassedToService",
        "planted/Passes: kms:CreateGrant without kms:GrantIsForAWSResource true",  # NotAction s3:* allows it
        "planted/Passes: iam:PassRole without iam:PassedToService",
        "planted/Key: key policy lets cloudwatch.amazonaws.com use the key with no source condition in this account",
        "planted/Key: key policy lets events.amazonaws.com use the key with no source condition in this account",
        "planted/Key: key policy lets delivery.logs.amazonaws.com use the key with no source condition in this account",
    ]


def test_the_check_accepts_the_conditions_it_asks_for() -> None:
    conditioned = {
        "ok": {
            "Resources": {
                "Grants": {
                    "Type": "AWS::IAM::Policy",
                    "Properties": {
                        "PolicyDocument": {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["kms:CreateGrant"],
                                    "Resource": "*",
                                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                                },
                                {
                                    "Effect": "Allow",
                                    "Action": "iam:PassRole",
                                    "Resource": "*",
                                    "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                                },
                            ]
                        }
                    },
                },
                "Key": {
                    "Type": "AWS::KMS::Key",
                    "Properties": {
                        "KeyPolicy": {
                            "Statement": [
                                {**KEY_ADMIN, "Action": "kms:*", "Resource": "*"},
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                    "Action": "kms:Decrypt",
                                    "Resource": "*",
                                    "Condition": {"StringEquals": {"aws:SourceAccount": THIS}},
                                },
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "events.amazonaws.com"},
                                    "Action": "kms:Decrypt",
                                    "Resource": "*",
                                    "Condition": {
                                        "ArnLike": {
                                            "kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:eu-west-2:111122223333:*"
                                        }
                                    },
                                },
                            ]
                        }
                    },
                },
            }
        }
    }
    assert condition_problems(conditioned, account="111122223333") == []
    # the same literal account is not this environment's when the environment names another
    assert len(condition_problems(conditioned, account="999999999999")) == 1
