"""Stage-1 foundation: encryption, TLS, retention and protection by environment, tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from infra.stacks.foundation_stack import PlatformKey

from .conftest import Synthesis


def _foundation(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("foundation"))


def _resources(synthesis: Synthesis, resource_type: str) -> dict[str, dict[str, Any]]:
    return _foundation(synthesis).find_resources(resource_type)


def _key_ref(synthesis: Synthesis) -> dict[str, Any]:
    (key_id,) = _resources(synthesis, "AWS::KMS::Key")
    return {"Fn::GetAtt": [key_id, "Arn"]}


def test_platform_key_rotates(dev5: Synthesis) -> None:
    _foundation(dev5).has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_data_buckets_use_the_platform_key_versioning_logging_and_no_public_access(dev5: Synthesis) -> None:
    buckets = _resources(dev5, "AWS::S3::Bucket")
    data_buckets = {
        logical_id: bucket for logical_id, bucket in buckets.items() if "LoggingConfiguration" in bucket["Properties"]
    }
    assert len(data_buckets) == 2, "raw and curated buckets log their access"
    for bucket in data_buckets.values():
        properties = bucket["Properties"]
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": _key_ref(dev5)}
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert properties["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        assert properties["LifecycleConfiguration"]["Rules"]
        # object events reach EventBridge natively: no notifications custom resource
        assert properties["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_every_bucket_refuses_plain_http_and_old_tls(dev5: Synthesis) -> None:
    policies = _resources(dev5, "AWS::S3::BucketPolicy")
    assert len(policies) == len(_resources(dev5, "AWS::S3::Bucket"))
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies]
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in [s["Condition"] for s in denies]


@pytest.mark.parametrize(
    ("fixture", "policy"),
    [("dev5", "Delete"), ("prod5", "Retain")],
)
def test_stateful_resources_follow_the_environment_removal_policy(
    request: pytest.FixtureRequest, fixture: str, policy: str
) -> None:
    synthesis: Synthesis = request.getfixturevalue(fixture)
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Events::Archive"):
        for logical_id, resource in _resources(synthesis, resource_type).items():
            assert resource.get("DeletionPolicy", "Delete") == policy, logical_id
            assert resource.get("UpdateReplacePolicy", "Delete") == policy, logical_id


def test_dev_empties_buckets_on_destroy_and_prod_never_does(dev5: Synthesis, prod5: Synthesis) -> None:
    assert _resources(dev5, "Custom::S3AutoDeleteObjects")
    assert _resources(prod5, "Custom::S3AutoDeleteObjects") == {}


def test_prod_stacks_have_termination_protection(dev5: Synthesis, prod5: Synthesis) -> None:
    manifest = json.loads((prod5.outdir / "manifest.json").read_text())
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert stacks
    assert all(a["properties"].get("terminationProtection") for a in stacks)
    dev_manifest = json.loads((dev5.outdir / "manifest.json").read_text())
    assert not any(
        a["properties"].get("terminationProtection")
        for a in dev_manifest["artifacts"].values()
        if a["type"] == "aws:cloudformation:stack"
    )


def test_event_bus_and_archive_and_alert_topic_are_encrypted(dev5: Synthesis) -> None:
    template = _foundation(dev5)
    key_arn = _key_ref(dev5)
    template.has_resource_properties("AWS::Events::EventBus", {"KmsKeyIdentifier": key_arn})
    template.has_resource_properties("AWS::Events::Archive", {"KmsKeyIdentifier": key_arn, "RetentionDays": 7})
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": key_arn})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def _key_statements(synthesis: Synthesis, service: str) -> list[dict[str, Any]]:
    """Key-policy statements naming this service principal, with Action always a list."""
    (key,) = _resources(synthesis, "AWS::KMS::Key").values()
    found = []
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        services = statement["Principal"].get("Service", [])
        if service in ([services] if isinstance(services, str) else services):
            actions = statement["Action"]
            found.append({**statement, "Action": sorted([actions] if isinstance(actions, str) else actions)})
    return found


def _arn_pattern(value: Any) -> str:
    """An ARN condition value as text, with the account token written `ACCOUNT`."""
    parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
    return "".join("ACCOUNT" if part == {"Ref": "AWS::AccountId"} else part for part in parts)


def test_alarms_may_use_the_key_only_for_this_accounts_alert_topics(dev5: Synthesis) -> None:
    (alarms,) = _key_statements(dev5, "cloudwatch.amazonaws.com")
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    like = alarms["Condition"]["ArnLike"]
    assert _arn_pattern(like["aws:SourceArn"]) == "arn:aws:cloudwatch:eu-west-2:ACCOUNT:alarm:*"
    # the platform's alert topic and each team's (omni-cx-dev-alerts-<team>)
    assert (
        _arn_pattern(like["kms:EncryptionContext:aws:sns:topicArn"])
        == "arn:aws:sns:eu-west-2:ACCOUNT:omni-cx-dev-alerts*"
    )


def test_rules_may_use_the_key_only_for_this_accounts_alert_topics_and_queues(dev5: Synthesis) -> None:
    delivery = [
        s
        for s in _key_statements(dev5, "events.amazonaws.com")
        if s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    ]
    assert [{key: _arn_pattern(value) for key, value in s["Condition"]["ArnLike"].items()} for s in delivery] == [
        {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-2:ACCOUNT:omni-cx-dev-alerts*"},
        {"kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:eu-west-2:ACCOUNT:*"},  # a rule's dead-letter queue
    ]
    assert all(set(s["Condition"]) == {"ArnLike"} for s in delivery)


def test_log_delivery_may_use_the_key_only_for_this_accounts_log_sources(dev5: Synthesis) -> None:
    (delivery,) = _key_statements(dev5, "delivery.logs.amazonaws.com")  # added by the state machine's logging
    assert delivery["Action"] == ["kms:Decrypt*"]
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert _arn_pattern(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == "arn:aws:logs:eu-west-2:ACCOUNT:*"


def test_the_platform_key_conditions_a_known_service_and_refuses_an_unknown_one() -> None:
    stack = Stack(App(), "KeyPolicy", env=Environment(account="111122223333", region="eu-west-2"))
    source = {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    key = PlatformKey(stack, "Key", source_conditions={"delivery.logs.amazonaws.com": source})

    def statement(service: str, **conditions: Any) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["kms:Decrypt"], principals=[iam.ServicePrincipal(service)], resources=["*"], conditions=conditions
        )

    key.add_to_resource_policy(statement("delivery.logs.amazonaws.com"))
    already = {"kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:eu-west-2:111122223333:*"}
    key.add_to_resource_policy(statement("events.amazonaws.com", ArnLike=already))
    with pytest.raises(ValueError, match=r"lets sns\.amazonaws\.com use it with no source condition"):
        key.add_to_resource_policy(statement("sns.amazonaws.com"))
    with pytest.raises(ValueError, match=r"lets sns\.amazonaws\.com use it"):
        key.add_to_resource_policy(statement("sns.amazonaws.com", StringEquals={"kms:CallerAccount": "111122223333"}))
    (resource,) = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    _, logs, events = resource["Properties"]["KeyPolicy"]["Statement"]
    assert logs["Condition"] == source
    assert events["Condition"] == {"ArnLike": already}


def test_eventbridge_may_use_the_key_only_for_this_bus_and_account(dev5: Synthesis) -> None:
    (bus_grant,) = [s for s in _key_statements(dev5, "events.amazonaws.com") if "kms:ReEncrypt*" in s["Action"]]
    conditions = bus_grant["Condition"]["StringEquals"]
    assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    bus_arn = json.dumps(conditions["kms:EncryptionContext:aws:events:event-bus:arn"])
    assert "event-bus/omni-cx-dev-customer-events" in bus_arn


def test_cloudwatch_logs_may_use_the_key_only_for_this_accounts_log_groups(dev5: Synthesis) -> None:
    (logs_grant,) = _key_statements(dev5, "logs.eu-west-2.amazonaws.com")
    arn = json.dumps(logs_grant["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert arn.endswith(':log-group:*"]]}')
    assert '{"Ref": "AWS::AccountId"}' in arn


def test_everything_is_tagged_with_project_environment_stage_and_capability(prod5: Synthesis) -> None:
    (bucket, *_) = _resources(prod5, "AWS::S3::Bucket").values()
    tags = {tag["Key"]: tag["Value"] for tag in bucket["Properties"]["Tags"]}
    assert tags["project"] == "omni-cx"
    assert tags["environment"] == "prod"
    assert tags["maturity-stage"] == "1 Disjointed"
    assert tags["capability"] == "foundation"
