"""The local platform is provisioned from the synthesized templates: same names, same settings."""

from __future__ import annotations

import json
import sys
import types

import pytest
from aws_lambda_powertools import Metrics

from sandbox.events import api_gateway_event
from sandbox.platform import _metrics_in, local_platform
from sandbox.templates import (
    BUS_TYPE,
    QUEUE_TYPE,
    STREAM_TYPE,
    TABLE_TYPES,
    TOPIC_TYPE,
    CloudAssembly,
    SandboxError,
)


def _declared_names(templates: CloudAssembly, *types: str, prop: str) -> set[str]:
    return {r.properties[prop] for r in templates.resources(*types) if isinstance(r.properties.get(prop), str)}


def test_every_table_stream_queue_bus_and_topic_of_the_templates_exists_in_moto(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        tables = set(platform.client("dynamodb").list_tables()["TableNames"])
        streams = set(platform.client("kinesis").list_streams()["StreamNames"])
        queues = {url.rsplit("/", 1)[-1] for url in platform.client("sqs").list_queues(MaxResults=1000)["QueueUrls"]}
        buses = {bus["Name"] for bus in platform.client("events").list_event_buses()["EventBuses"]}
        topics = {t["TopicArn"].rsplit(":", 1)[-1] for t in platform.client("sns").list_topics()["Topics"]}

        expected_tables = {platform.name_of(r) for r in dev_templates.resources(*TABLE_TYPES)}
        assert expected_tables >= _declared_names(dev_templates, *TABLE_TYPES, prop="TableName")
        assert expected_tables
        assert expected_tables <= tables
        assert {platform.name_of(r) for r in dev_templates.resources(STREAM_TYPE)} <= streams
        assert {platform.name_of(r) for r in dev_templates.resources(QUEUE_TYPE)} <= queues
        assert _declared_names(dev_templates, BUS_TYPE, prop="Name") <= buses
        assert _declared_names(dev_templates, TOPIC_TYPE, prop="TopicName") <= topics
        assert "omni-cx-dev-customers" in tables  # the name the runtime constants agree on


def test_tables_keep_their_keys_indexes_ttl_and_streams(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        dynamodb = platform.client("dynamodb")
        for resource in dev_templates.resources(*TABLE_TYPES):
            name = platform.name_of(resource)
            table = dynamodb.describe_table(TableName=name)["Table"]
            assert table["KeySchema"] == resource.properties["KeySchema"], name
            declared = {index["IndexName"] for index in resource.properties.get("GlobalSecondaryIndexes", [])}
            assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])} == declared, name
            ttl = resource.properties.get("TimeToLiveSpecification")
            if ttl:
                described = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                assert described["AttributeName"] == ttl["AttributeName"], name
            view = resource.properties.get("StreamSpecification", {}).get("StreamViewType")
            assert table.get("StreamSpecification", {}).get("StreamViewType") == view, name


def test_function_environments_resolve_to_the_provisioned_resources(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        environment = platform.function_environment("event_processor.handler.lambda_handler")
        assert environment["CUSTOMER_TABLE_NAME"] == platform.table("customers")  # through the exporting stack
        assert environment["EVENT_BUS_NAME"] == platform.bus("customer-events")
        queue = environment["EVENT_DEAD_LETTER_QUEUE_URL"]
        platform.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        for function in platform.functions():
            assert all(
                "Fn::" not in value and "Ref" not in value
                for value in platform.function_environment(function.handler).values()
            )


def test_rules_deliver_what_their_pattern_matches_to_a_sandbox_queue(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        route = next(rule for rule in platform.rules if "alert_router.handler.lambda_handler" in rule.target_handlers)
        pattern = dict(route.pattern or {})
        event = {"Source": pattern["source"][0], "DetailType": pattern["detail-type"][0], "EventBusName": route.bus}
        events = platform.client("events")
        events.put_events(Entries=[{**event, "Detail": json.dumps({"alarmName": "not-ours"})}])
        assert platform.rule_deliveries(route.name) == []
        prefix = pattern["detail"]["alarmName"][0]["prefix"]
        events.put_events(Entries=[{**event, "Detail": json.dumps({"alarmName": prefix + "x"})}])
        assert [delivered["detail"]["alarmName"] for delivered in platform.rule_deliveries(route.name)] == [
            prefix + "x"
        ]


def test_unknown_names_fail_with_the_known_ones(dev_templates: CloudAssembly) -> None:
    with (
        local_platform(templates=dev_templates) as platform,
        pytest.raises(SandboxError, match="omni-cx-dev-customers"),
    ):
        platform.table("no-such-table")


def test_invoke_runs_the_real_handler_with_its_template_environment(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        customer_id = "gc-0a1b2c3d4e5f60718293"
        event = api_gateway_event(
            "GET", f"/customers/{customer_id}", resource="/customers/{id}", path_parameters={"id": customer_id}
        )
        response = platform.invoke("profiles.handler.lambda_handler", event)
        assert response["statusCode"] == 404  # the real table, empty: the service answers, not a fake


def test_a_bucket_with_eventbridge_notifications_puts_its_s3_events_on_the_default_bus(
    dev_templates: CloudAssembly,
) -> None:
    """The curated bucket's template turns EventBridge notifications on: moto emits the manifest's event itself."""
    with local_platform(templates=dev_templates) as platform:
        bucket = platform.bucket(f"curated-{platform.account}-{platform.region}")
        route = next(rule for rule in platform.rules if "mdm_loader.handler.lambda_handler" in rule.target_handlers)
        s3 = platform.client("s3")
        s3.put_object(Bucket=bucket, Key="mdm/runs/run_id=r1/golden/part-0.json", Body=b"{}")
        assert platform.rule_deliveries(route.name) == []  # not a manifest: the rule's pattern drops it
        s3.put_object(Bucket=bucket, Key="mdm/runs/run_id=r1/manifest.json", Body=b"{}")
        (delivered,) = platform.rule_deliveries(route.name)
        assert delivered["source"] == "aws.s3"
        assert delivered["detail-type"] == "Object Created"
        assert delivered["detail"]["bucket"]["name"] == bucket
        assert delivered["detail"]["object"]["key"] == "mdm/runs/run_id=r1/manifest.json"
        # S3 events go to the default bus only: no custom bus counts them as arrivals.
        assert all(platform.bus_events(bus) == [] for bus in platform.bus_taps)


def test_the_flows_lambda_placeholders_are_read_from_the_templates(dev_templates: CloudAssembly) -> None:
    from connect_flows.manifest import load_manifest
    from sandbox.steps.call import flow_functions

    manifest = load_manifest()
    with local_platform(templates=dev_templates) as platform:
        found = flow_functions(platform, manifest.documents())
    assert found == {
        "caller_lookup": "connect_lookup.handler.lambda_handler",
        "offer_check": "connect_offers.handler.lambda_handler",
        "next_action": "connect_next_action.handler.lambda_handler",
    }


def test_a_handler_imported_under_another_environment_emits_in_its_function_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lambda imports a handler in its function's environment; here a unit test may have imported it first."""
    imported_by_a_test = types.ModuleType("shop.handler")
    imported_by_a_test.metrics = Metrics(namespace="unit-tests")  # type: ignore[attr-defined]
    elsewhere = types.ModuleType("other.handler")
    elsewhere.metrics = Metrics(namespace="unit-tests")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shop.handler", imported_by_a_test)
    monkeypatch.setitem(sys.modules, "other.handler", elsewhere)
    _metrics_in("shop", {"POWERTOOLS_METRICS_NAMESPACE": "omni-cx"})
    assert imported_by_a_test.metrics.namespace == "omni-cx"  # type: ignore[attr-defined]
    assert elsewhere.metrics.namespace == "unit-tests"  # type: ignore[attr-defined]
