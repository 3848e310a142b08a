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
