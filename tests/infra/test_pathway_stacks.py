"""Stage-3 pathways: the encrypted event stream, and Firehose into the partitioned lake."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from .conftest import Synthesis


def _experience(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("experience-pathway"))


def _analytical(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("analytical-pathway"))


@pytest.mark.parametrize(
    ("fixture", "mode", "hours", "policy"),
    [("dev5", "PROVISIONED", 24, "Delete"), ("prod5", "ON_DEMAND", 168, "Retain")],
)
def test_the_stream_is_kms_encrypted_sized_and_retained_from_config(
    request: pytest.FixtureRequest, fixture: str, mode: str, hours: int, policy: str
) -> None:
    synthesis: Synthesis = request.getfixturevalue(fixture)
    (stream,) = _experience(synthesis).find_resources("AWS::Kinesis::Stream").values()
    properties = stream["Properties"]
    assert properties["StreamEncryption"]["EncryptionType"] == "KMS"
    assert "PlatformKey" in json.dumps(properties["StreamEncryption"]["KeyId"])
    assert properties["StreamModeDetails"] == {"StreamMode": mode}
    assert properties["RetentionPeriodHours"] == hours
    assert stream["DeletionPolicy"] == policy


def test_firehose_writes_gzip_json_lines_partitioned_by_type_and_day_with_an_error_prefix(dev5: Synthesis) -> None:
    (delivery,) = _analytical(dev5).find_resources("AWS::KinesisFirehose::DeliveryStream").values()
    properties = delivery["Properties"]
    assert properties["DeliveryStreamType"] == "KinesisStreamAsSource"
    destination = properties["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"].startswith("events/event_type=!{partitionKeyFromQuery:event_type}/dt=!{timestamp:")
    assert destination["ErrorOutputPrefix"].startswith("events-errors/!{firehose:error-output-type}/")
    assert destination["CompressionFormat"] == "GZIP"
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert destination["BufferingHints"]["SizeInMBs"] >= 64  # dynamic partitioning's minimum
    assert "PlatformKey" in json.dumps(destination["EncryptionConfiguration"])
    assert "omni-cx-dev-raw-" in json.dumps(destination["BucketARN"])
    processors = {p["Type"] for p in destination["ProcessingConfiguration"]["Processors"]}
    assert processors == {"MetadataExtraction", "AppendDelimiterToRecord"}


def test_firehose_may_write_only_its_prefixes(dev5: Synthesis) -> None:
    statements = [
        s
        for policy in _analytical(dev5).find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    s3_writes = [
        json.dumps(resource)
        for s in statements
        if "s3:PutObject" in json.dumps(s["Action"])
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    written = {resource.split("-eu-west-2/")[1].split('"')[0] for resource in s3_writes}
    assert written == {"events/*", "events-errors/*"}


def test_the_events_table_projects_partitions_without_a_crawler(dev5: Synthesis) -> None:
    (table,) = _analytical(dev5).find_resources("AWS::Glue::Table").values()
    table_input = table["Properties"]["TableInput"]
    assert [k["Name"] for k in table_input["PartitionKeys"]] == ["event_type", "dt"]
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert "purchase" in parameters["projection.event_type.values"].split(",")
    assert "event_type=${event_type}/dt=${dt}/" in json.dumps(parameters["storage.location.template"])


@pytest.mark.parametrize(("fixture", "parallelization"), [("dev5", 1), ("prod5", 2)])
def test_the_event_source_mapping_reports_partial_failures_bisects_and_bounds_retries(
    request: pytest.FixtureRequest, fixture: str, parallelization: int
) -> None:
    template = _experience(request.getfixturevalue(fixture))
    (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == 5
    assert properties["MaximumRecordAgeInSeconds"] == 3600
    assert properties["BatchSize"] == 500
    assert properties["MaximumBatchingWindowInSeconds"] == 1
    assert properties["ParallelizationFactor"] == parallelization
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert "FailedBatches" in json.dumps(properties["DestinationConfig"]["OnFailure"]["Destination"])
    # the mapping invokes the live alias, so CodeDeploy's traffic shifting covers it too
    assert "EventProcessorLive" in json.dumps(properties["FunctionName"])


def test_both_dead_letter_queues_are_kms_encrypted_and_refuse_plain_http(dev5: Synthesis) -> None:
    template = _experience(dev5)
    queues = template.find_resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert "PlatformKey" in json.dumps(queue["Properties"]["KmsMasterKeyId"])
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    for policy in template.find_resources("AWS::SQS::QueuePolicy").values():
        assert {"Bool": {"aws:SecureTransport": "false"}} in [
            s.get("Condition") for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def test_the_processor_writes_only_where_it_must(dev5: Synthesis) -> None:
    statements = [
        s
        for policy in _experience(dev5).find_resources("AWS::IAM::Policy").values()
        if "EventProcessorRole" in json.dumps(policy["Properties"]["Roles"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    }
    (put_events,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "event-bus/omni-cx-dev-customer-events" in json.dumps(put_events["Resource"])
    assert "dynamodb:Scan" not in actions
    assert "dynamodb:DeleteItem" not in actions


def test_alarms_watch_iterator_age_and_both_dead_letter_queues(dev5: Synthesis) -> None:
    alarms = _experience(dev5).find_resources("AWS::CloudWatch::Alarm")
    metrics = [a["Properties"].get("MetricName") for a in alarms.values()]
    assert "IteratorAge" in metrics
    assert metrics.count("ApproximateNumberOfMessagesVisible") == 2
    assert {"Errors", "Throttles"} <= set(metrics)


def test_firehose_may_check_the_bucket_it_writes_to(dev5: Synthesis) -> None:
    statements = [
        s
        for policy in _analytical(dev5).find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (bucket_level,) = [s for s in statements if "s3:GetBucketLocation" in json.dumps(s["Action"])]
    assert set(bucket_level["Action"]) == {"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
    assert json.dumps(bucket_level["Resource"]).endswith('-eu-west-2"]]}')


def test_the_processor_environment_satisfies_its_runtime_settings(prod5: Synthesis) -> None:
    # What the stack sets must be what the function accepts, at the configured values.
    from event_processor.settings import ProcessorSettings
    from omni_domain import constants

    (function,) = [
        f
        for f in _experience(prod5).find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == constants.EVENT_PROCESSOR_HANDLER
    ]
    variables = {
        name: value if isinstance(value, str) else "https://sqs.eu-west-2.amazonaws.com/123456789012/queue"
        for name, value in function["Properties"]["Environment"]["Variables"].items()
    }
    variables[constants.ENV_CUSTOMER_TABLE] = variables[constants.ENV_IDENTITY_TABLE] = "a-table"
    settings = ProcessorSettings.from_environment(variables)
    assert settings.dedup_hours == 168 + 24
    assert variables[constants.ENV_FUTURE_TOLERANCE_MINUTES] == "5"  # from cdk.json, not the function's default
    assert settings.future_tolerance_minutes == 5
    assert settings.spend_currency == "GBP"
