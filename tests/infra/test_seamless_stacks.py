"""Stage 5: the customer table's stream, the state fan-out and real-time rescoring."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from moto import mock_aws

from infra.stages import Stage
from infra.upgrade_safety import upgrade_violations
from omni_domain import constants
from rescorer.aws import DynamoDBPropensityWriter
from rescorer.constants import ENV_RESCORE_DELAY_QUEUE_URL
from state_publisher.changes import MODEL_RELEVANT_FIELDS, CustomerStateChanged, ItemChange, state_change
from tests.lambdas.conftest import CUSTOMER_ID, REGION, TABLES, create_tables
from tests.lambdas.rescorer.conftest import NOW, put_state, repository, state_item, store_customer

from .conftest import ENVIRONMENTS, Synthesis


def _customer_table(synthesis: Synthesis) -> tuple[str, dict[str, Any]]:
    resources = synthesis.template("customer-domain")["Resources"]
    (found,) = (
        (logical_id, resource)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
        and resource["Properties"]["TableName"].endswith(f"-{constants.CUSTOMER_TABLE_SUFFIX}")
    )
    return found


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_enabling_the_stream_updates_the_customer_table_in_place(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    # Given the customer table at stage 4 (no stream) and at stage 5
    before_id, before = _customer_table(syntheses[env, Stage.ORCHESTRATED])
    after_id, after = _customer_table(syntheses[env, Stage.SEAMLESS])
    # Then it is the same resource, and the stream is the only property that changes
    assert after_id == before_id
    assert "StreamSpecification" not in before["Properties"]
    assert after["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    changed = {
        name
        for name in before["Properties"].keys() | after["Properties"].keys()
        if before["Properties"].get(name) != after["Properties"].get(name)
    }
    assert changed == {"StreamSpecification"}
    # And the CloudFormation registry schema (shipped with cfn-lint) does not make it create-only:
    # changing it is an update of the existing table, never a replacement that would lose its data.
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region="eu-west-2", resource_type="AWS::DynamoDB::Table")
    create_only = {path.removeprefix("/properties/").split("/")[0] for path in schema.schema["createOnlyProperties"]}
    assert not changed & create_only
    assert after["DeletionPolicy"] == before["DeletionPolicy"]
    stack = next(name for name in syntheses[env, Stage.SEAMLESS].templates if name.endswith("-customer-domain"))
    assert (
        upgrade_violations(
            {stack: syntheses[env, Stage.ORCHESTRATED].templates[stack]},
            {stack: syntheses[env, Stage.SEAMLESS].templates[stack]},
        )
        == []
    )


def test_the_publisher_reads_the_customer_stream_in_order_and_keeps_what_fails(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("state-fanout"))
    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert "StreamArn" in json.dumps(properties["EventSourceArn"])
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["ParallelizationFactor"] == 1
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["MaximumRetryAttempts"] == 10
    assert "FailedChanges" in json.dumps(properties["DestinationConfig"]["OnFailure"])
    # The mapping invokes the alias, so CodeDeploy's traffic shifting covers the stream too.
    assert ":live" in json.dumps(properties["FunctionName"])


def test_the_publisher_may_put_events_only_on_the_platform_bus(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("state-fanout"))
    puts = [s for s in _statements(template) if "events:PutEvents" in json.dumps(s["Action"])]
    assert len(puts) == 1
    assert puts[0]["Resource"] != "*"
    assert "event-bus/omni-cx-dev-customer-events" in json.dumps(puts[0]["Resource"])
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": constants.STATE_PUBLISHER_HANDLER,
            "Timeout": constants.STATE_PUBLISHER_TIMEOUT_SECONDS,  # what its clients' timeouts are sized for
            "Environment": {
                "Variables": Match.object_like(
                    {
                        constants.ENV_EVENT_BUS: "omni-cx-dev-customer-events",
                        constants.ENV_IDEMPOTENCY_TABLE: Match.any_value(),
                    }
                )
            },
        },
    )


@pytest.mark.parametrize(("fixture", "debounce"), [("dev5", "30"), ("prod5", "300")])
def test_the_rescorer_hears_model_relevant_changes_only(
    request: pytest.FixtureRequest, fixture: str, debounce: str
) -> None:
    synthesis: Synthesis = request.getfixturevalue(fixture)
    template = Template.from_json(synthesis.template("realtime-rescoring"))
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == [constants.STATE_CHANGE_SOURCE]
    assert pattern["detail-type"] == [constants.STATE_CHANGED_DETAIL_TYPE]
    assert sorted(pattern["detail"]["changed"]) == sorted(MODEL_RELEVANT_FIELDS)
    assert "propensity" not in pattern["detail"]["changed"]  # the rescorer's own write never triggers it again
    # Erasures, and the removals an erasure makes, never invoke the rescorer.
    assert sorted(pattern["detail"]["record"]) == ["live_state", "profile"]
    assert sorted(pattern["detail"]["change"]) == ["created", "updated"]
    assert rule["Properties"]["EventBusName"] == f"omni-cx-{synthesis.env}-customer-events"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": constants.RESCORER_HANDLER,
            "Environment": {"Variables": Match.object_like({constants.ENV_RESCORE_DEBOUNCE_SECONDS: debounce})},
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": constants.RESCORE_EXPIRY_ATTRIBUTE, "Enabled": True}},
    )


def test_the_rescorer_invokes_only_the_propensity_endpoint_and_updates_only_the_customer_and_debounce_tables(
    dev5: Synthesis,
) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    statements = _statements(template)
    invoke = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert len(invoke) == 1
    assert "endpoint/omni-cx-dev-propensity" in json.dumps(invoke[0]["Resource"])
    writes = [json.dumps(s["Resource"]) for s in statements if "dynamodb:UpdateItem" in json.dumps(s["Action"])]
    assert len(writes) == 2
    assert [w for w in writes if "CustomersTable" in w]
    assert [w for w in writes if "Debounce" in w]
    deletes = [s for s in statements if "dynamodb:DeleteItem" in json.dumps(s["Action"])]
    assert len(deletes) == 1
    assert "Debounce" in json.dumps(deletes[0]["Resource"])  # claims only: customer data is never deleted


def _queue(template: Template, logical_id_prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = (
        (logical_id, queue)
        for logical_id, queue in template.find_resources("AWS::SQS::Queue").items()
        if logical_id.startswith(logical_id_prefix)
    )
    return found


def _assert_encrypted_and_ssl_only(template: Template, logical_id: str, queue: dict[str, Any]) -> None:
    assert "PlatformKey" in json.dumps(queue["Properties"]["KmsMasterKeyId"])  # the platform's own key
    policies = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in template.find_resources("AWS::SQS::QueuePolicy").values()
        if policy["Properties"]["Queues"] == [{"Ref": logical_id}]
    ]
    (statements,) = policies
    assert {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": {"Fn::GetAtt": [logical_id, "Arn"]},
    } in statements


def test_events_the_rule_cannot_deliver_are_kept_in_the_rescorers_encrypted_dead_letter_queue(
    dev5: Synthesis,
) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    (rule_id,) = template.find_resources("AWS::Events::Rule")
    (target,) = template.find_resources("AWS::Events::Rule")[rule_id]["Properties"]["Targets"]
    (alias_id,) = template.find_resources("AWS::Lambda::Alias")
    assert target["Arn"] == {"Ref": alias_id}  # the live alias, like the delay queue's mapping
    dead_letters_id, dead_letters = _queue(template, "RescorerDeadLetters")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters_id, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 1800, "MaximumRetryAttempts": 4}
    _assert_encrypted_and_ssl_only(template, dead_letters_id, dead_letters)
    # EventBridge may send to it for this rule only.
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": dead_letters_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_trailing_rescores_wait_in_an_encrypted_ssl_only_delay_queue_the_rescorer_consumes(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    delay_id, delay = _queue(template, "TrailingRescores")
    failed_id, failed = _queue(template, "FailedTrailingRescores")
    _assert_encrypted_and_ssl_only(template, delay_id, delay)
    _assert_encrypted_and_ssl_only(template, failed_id, failed)
    # A message that keeps failing is kept, for two weeks, in its own dead-letter queue.
    assert delay["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [failed_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    assert failed["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # The function is told where to send them, and consumes them through its alias, failing single messages.
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": constants.RESCORER_HANDLER,
            "Environment": {"Variables": Match.object_like({ENV_RESCORE_DELAY_QUEUE_URL: {"Ref": delay_id}})},
            "Timeout": 15,
        },
    )
    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [delay_id, "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ":live" in json.dumps(properties["FunctionName"])
    assert delay["Properties"]["VisibilityTimeout"] >= 6 * 15  # never redelivered while a batch still runs
    # Fewer concurrent batches than the function reserves: throttled receives never exhaust a message
    assert properties["ScalingConfig"]["MaximumConcurrency"] < 10


@pytest.mark.parametrize("queue", ["RescorerDeadLetters", "FailedTrailingRescores"])
def test_what_the_rescorer_gives_up_on_raises_an_alarm_to_the_platform_team(dev5: Synthesis, queue: str) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    queue_id, _ = _queue(template, queue)
    watching = [
        alarm
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and json.dumps({"Fn::GetAtt": [queue_id, "QueueName"]}) in json.dumps(alarm["Properties"]["Dimensions"])
    ]
    assert len(watching) == 1
    assert watching[0]["Properties"]["Threshold"] == 1
    assert watching[0]["Properties"]["AlarmActions"]


def test_the_rescorer_sends_only_to_its_queues_and_receives_only_from_the_delay_queue(dev5: Synthesis) -> None:
    template = Template.from_json(dev5.template("realtime-rescoring"))
    delay_id, _ = _queue(template, "TrailingRescores")
    dead_letters_id, _ = _queue(template, "RescorerDeadLetters")
    sqs = [s for s in _statements(template) if "sqs:" in json.dumps(s["Action"])]
    sends = [s for s in sqs if "sqs:SendMessage" in json.dumps(s["Action"])]
    assert [s["Action"] for s in sends] == ["sqs:SendMessage"]
    assert sorted(json.dumps(r) for r in sends[0]["Resource"]) == sorted(
        json.dumps({"Fn::GetAtt": [queue, "Arn"]}) for queue in (dead_letters_id, delay_id)
    )
    (receive,) = [s for s in sqs if "sqs:ReceiveMessage" in json.dumps(s["Action"])]
    assert receive["Resource"] == {"Fn::GetAtt": [delay_id, "Arn"]}
    assert "sqs:*" not in json.dumps(sqs)


def test_stage_4_has_no_stage_5_capability(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> None:
    names = syntheses["dev", Stage.ORCHESTRATED].templates
    assert not [name for name in names if name.endswith(("-state-fanout", "-realtime-rescoring"))]


# The rescoring loop, closed: the rescorer's own write-back fans out a change the rule does not match.


@pytest.fixture
def customer_table() -> Iterator[Any]:
    """moto: the customer tables with the stored customer."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        store_customer(client)
        yield client


class RuleTap:
    """The synthesized rule on a moto bus, its target a queue: `matches` puts an event and sees whether the
    rule delivered it (moto's EventBridge routing, including its pattern matching)."""

    def __init__(self, synthesis: Synthesis) -> None:
        (rule,) = (
            Template.from_json(synthesis.template("realtime-rescoring")).find_resources("AWS::Events::Rule").values()
        )
        self.bus = rule["Properties"]["EventBusName"]
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.events.create_event_bus(Name=self.bus)
        self.events.put_rule(
            Name="model-relevant-change",
            EventBusName=self.bus,
            EventPattern=json.dumps(rule["Properties"]["EventPattern"]),
        )
        self.queue = self.sqs.create_queue(QueueName="rescorer-tap")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_targets(
            Rule="model-relevant-change", EventBusName=self.bus, Targets=[{"Id": "tap", "Arn": arn}]
        )

    def matches(self, detail: CustomerStateChanged) -> bool:
        entry = {
            "EventBusName": self.bus,
            "Source": constants.STATE_CHANGE_SOURCE,
            "DetailType": constants.STATE_CHANGED_DETAIL_TYPE,
            "Detail": detail.model_dump_json(),
        }
        assert self.events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        assert len(messages) <= 1
        return bool(messages) and json.loads(messages[0]["Body"])["detail"]["change_id"] == detail.change_id


def _published(old: Mapping[str, Any], new: Mapping[str, Any]) -> CustomerStateChanged:
    """What the state publisher sends for this STATE write (the images as the stream decodes them)."""
    change = state_change(
        ItemChange(
            change_id="e-1",
            customer_id=CUSTOMER_ID,
            sort_key=constants.LIVE_STATE_RECORD,
            event_name="MODIFY",
            sequence="49656288358271234567890123456789012345678901234567890",
            occurred_at=NOW,
            old_image=old,
            new_image=new,
        )
    )
    assert change is not None
    return change


def test_the_rescorers_own_write_back_does_not_invoke_it_again_but_a_cart_change_does(
    dev5: Synthesis, customer_table: Any
) -> None:
    rule = RuleTap(dev5)
    # Given the STATE item as the event processor left it
    before = state_item(customer_table)
    assert before is not None
    # When the rescorer writes its scores back (the real conditional update)
    DynamoDBPropensityWriter(customer_table, TABLES[constants.ENV_CUSTOMER_TABLE]).write(
        CUSTOMER_ID,
        {"retention-offer": 0.81},
        model_version="xgb-0123456789abcdef",
        scored_at=NOW,
        expected_version=before["version"],
    )
    rescored = state_item(customer_table)
    assert rescored is not None
    # Then the state publisher announces the score, and the rescorer's rule does not match it
    own = _published(before, rescored)
    assert (own.record, own.change) == ("live_state", "updated")
    assert own.changed == ["propensity", "propensity_model", "propensity_scored_at"]
    assert not rule.matches(own)
    # And when the cart is abandoned next, that change does match
    state = repository(customer_table).get(CUSTOMER_ID).live_state
    assert state is not None
    assert state.cart is not None
    cart = state.cart.model_copy(update={"status": "abandoned", "at": NOW + timedelta(minutes=1)})
    put_state(customer_table, CUSTOMER_ID, state.model_copy(update={"cart": cart, "version": state.version + 1}))
    abandoned = state_item(customer_table)
    assert abandoned is not None
    change = _published(rescored, abandoned)
    assert "cart" in change.changed
    assert rule.matches(change)


@pytest.mark.parametrize(
    ("detail", "matches"),
    [
        pytest.param({"changed": ["cart"]}, True, id="one-relevant-name"),
        pytest.param({"changed": ["cart", "last_interaction", "propensity"]}, True, id="any-of-changed"),
        pytest.param({"changed": ["last_interaction", "propensity"]}, False, id="none-of-changed"),
        pytest.param({"record": "profile", "changed": ["consent", "email"]}, True, id="profile-consent"),
        pytest.param({"change": "created", "changed": ["counters"]}, True, id="created"),
        pytest.param({"change": "removed", "changed": ["cart", "counters"], "version": None}, False, id="removed"),
        pytest.param(
            {"record": "erasure", "change": "created", "changed": ["erased_at"], "version": None}, False, id="erasure"
        ),
    ],
)
def test_the_rules_pattern_matches_a_created_or_updated_record_naming_any_model_relevant_field(
    dev5: Synthesis, detail: dict[str, Any], matches: bool
) -> None:
    change = CustomerStateChanged.model_validate(
        {
            "change_id": "c-1",
            "customer_id": CUSTOMER_ID,
            "record": "live_state",
            "change": "updated",
            "values": {},
            "version": 6,
            "sequence": "1",
            "occurred_at": "2026-11-29T21:00:00Z",
            **detail,
        }
    )
    with mock_aws():
        assert RuleTap(dev5).matches(change) is matches
