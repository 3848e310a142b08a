"""The handler end to end: a real run uploaded to moto S3, loaded into moto DynamoDB through its EventBridge event."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from glue_jobs.dedupe import write_run
from glue_jobs.golden_ids import Merge
from mdm_loader.errors import IncompleteRunError, MalformedLineError, NotAManifestError, WrongBucketError
from mdm_loader.observability import logger
from omni_domain.constants import IDENTITY_BY_CUSTOMER_INDEX
from omni_domain.dynamodb_store import DynamoDBCustomerRepository
from omni_domain.identifiers import identifier_key
from omni_domain.identity_map import new_link
from omni_domain.models import CustomerProfile, ProfileAttributes
from tests.lambdas.mdm_loader.conftest import (
    CUSTOMER_TABLE,
    IDENTITY_TABLE,
    MDM_PREFIX,
    Aws,
    Invoke,
    PublishedRun,
    manifest_event,
    upload,
)

NOW = datetime(2026, 11, 4, 13, 0, tzinfo=UTC)


def _event(run: PublishedRun) -> dict[str, Any]:
    return manifest_event(MDM_PREFIX + run.manifest_key)


def _repository(aws: Aws) -> DynamoDBCustomerRepository:
    return DynamoDBCustomerRepository(aws.dynamodb, customer_table=CUSTOMER_TABLE, identity_table=IDENTITY_TABLE)


def _resolve(aws: Aws, key: str) -> str | None:
    item = aws.dynamodb.get_item(TableName=IDENTITY_TABLE, Key={"identifier": {"S": key}}).get("Item")
    return item["customer_id"]["S"] if item else None


def _golden_with(run: PublishedRun, field: str) -> dict[str, Any]:
    return next(line for line in run.golden_lines() if line["attributes"].get(field, {}).get("value"))


def test_given_a_published_run_when_its_manifest_event_arrives_then_every_golden_id_resolves(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    upload(aws.s3, published_run.folder)

    summary = invoke(_event(published_run))

    golden = published_run.result.golden_records
    assert summary["profiles"]["created"] == len(golden)
    for record in golden:
        member = record.survived.members[0]
        assert _resolve(aws, identifier_key("source", member)) == record.golden_id
        profile = _repository(aws).get(record.golden_id).profile
        assert profile is not None
        assert profile.version == 1
    assert summary["links_written"] == len(published_run.result.links.links)


def test_given_a_loaded_run_when_loaded_again_then_both_tables_are_identical(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    upload(aws.s3, published_run.folder)
    invoke(_event(published_run))
    customers, identities = aws.scan(CUSTOMER_TABLE), aws.scan(IDENTITY_TABLE)

    again = invoke(_event(published_run))

    assert aws.scan(CUSTOMER_TABLE) == customers
    assert aws.scan(IDENTITY_TABLE) == identities
    assert again["profiles"] == {"created": 0, "filled": 0, "unchanged": len(customers), "erased": 0}


def test_given_a_profile_a_channel_edited_when_loaded_then_its_values_stay_and_empty_ones_fill(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    golden = _golden_with(published_run, "last_name")
    channel = ProfileAttributes(first_name="Channelname", last_name="Channelsurname")
    _repository(aws).save(
        CustomerProfile(customer_id=golden["golden_id"], attributes=channel, version=3, created_at=NOW, updated_at=NOW),
        expected_version=None,
    )
    upload(aws.s3, published_run.folder)

    summary = invoke(_event(published_run))

    profile = _repository(aws).get(golden["golden_id"]).profile
    assert profile is not None
    assert (profile.attributes.first_name, profile.attributes.last_name) == ("Channelname", "Channelsurname")
    assert profile.version == 4
    assert profile.attributes.date_of_birth is not None or profile.attributes.address is not None
    assert summary["profiles"]["filled"] == 1


def test_given_an_email_a_channel_captured_for_another_customer_when_loaded_then_it_is_kept_and_counted(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    golden = _golden_with(published_run, "email")
    key = identifier_key("email", golden["attributes"]["email"]["value"])
    other = "gc-channelcustomer0001"
    _repository(aws).save(
        CustomerProfile(customer_id=other, attributes=ProfileAttributes(), version=1, created_at=NOW, updated_at=NOW),
        expected_version=None,
        add_links=[new_link(key, other, origin="profile-service", at=NOW)],
    )
    upload(aws.s3, published_run.folder)

    summary = invoke(_event(published_run))

    assert _resolve(aws, key) == other
    assert summary["link_conflicts"] == 1


def test_given_a_run_with_a_merge_when_loaded_then_links_of_the_old_id_move_and_merged_is_written(
    aws: Aws, invoke: Invoke, published_run: PublishedRun, tmp_path: Path
) -> None:
    upload(aws.s3, published_run.folder)
    invoke(_event(published_run))
    old, new = "gc-provisional00000001", published_run.result.golden_records[0].golden_id
    device = identifier_key("device", "app-install-42")
    aws.dynamodb.put_item(
        TableName=IDENTITY_TABLE,
        Item={
            "identifier": {"S": device},
            "identifier_type": {"S": "device"},
            "customer_id": {"S": old},
            "origin": {"S": "event-processor"},
            "updated_at": {"S": NOW.isoformat()},
        },
    )
    second = replace(published_run.result, merges=[Merge(old_golden_id=old, new_golden_id=new)])
    write_run(second, tmp_path, "20261105T120000Z")
    upload(aws.s3, tmp_path)

    summary = invoke(manifest_event(f"{MDM_PREFIX}runs/run_id=20261105T120000Z/manifest.json"))
    invoke(manifest_event(f"{MDM_PREFIX}runs/run_id=20261105T120000Z/manifest.json"))

    assert _resolve(aws, device) == new
    assert (summary["merges_applied"], summary["links_repointed"]) == (1, 1)
    merged = aws.dynamodb.get_item(TableName=CUSTOMER_TABLE, Key={"customer_id": {"S": old}, "record": {"S": "MERGED"}})
    assert {name: value["S"] for name, value in merged["Item"].items()} == {
        "customer_id": old,
        "record": "MERGED",
        "merged_into": new,
        "run_id": "20261105T120000Z",
        "merged_at": "2026-11-05T12:00:00+00:00",
    }
    by_customer = aws.dynamodb.query(
        TableName=IDENTITY_TABLE,
        IndexName=IDENTITY_BY_CUSTOMER_INDEX,
        KeyConditionExpression="customer_id = :old",
        ExpressionAttributeValues={":old": {"S": old}},
    )
    assert by_customer["Items"] == []


def test_given_a_golden_value_that_fails_validation_when_loaded_then_it_is_skipped_and_counted(
    aws: Aws, invoke: Invoke, published_run: PublishedRun, tmp_path: Path
) -> None:
    shutil.copytree(published_run.folder, tmp_path, dirs_exist_ok=True)
    part = tmp_path / f"golden_records/run_id={published_run.run_id}/part-00000.json"
    lines = [json.loads(line) for line in part.read_text().splitlines()]
    lines[0]["attributes"]["date_of_birth"] = {"value": "1990-02-31", "source_system": "crm", "source_id": "C1"}
    part.write_text("".join(json.dumps(line) + "\n" for line in lines))
    upload(aws.s3, tmp_path)

    summary = invoke(_event(published_run))

    profile = _repository(aws).get(lines[0]["golden_id"]).profile
    assert profile is not None
    assert profile.attributes.date_of_birth is None
    assert summary["invalid_values"] == {"date_of_birth": 1}
    assert summary["profiles"]["created"] == len(lines)


def test_given_loads_that_succeed_and_fail_when_logged_then_no_name_email_phone_or_address_appears(
    aws: Aws, invoke: Invoke, published_run: PublishedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The logger's own output (its handler kept the stdout of import time), and whatever reaches stdout.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    shutil.copytree(published_run.folder, tmp_path, dirs_exist_ok=True)
    part = tmp_path / f"golden_records/run_id={published_run.run_id}/part-00000.json"
    lines = part.read_text().splitlines()
    broken = json.loads(lines[0])
    broken["attributes"]["email"] = {"value": "Lovelace at example", "source_system": "crm", "source_id": "C1"}
    part.write_text("\n".join([json.dumps(broken), *lines[1:]]) + "\n")
    upload(aws.s3, tmp_path)
    try:
        invoke(_event(published_run))
        part.write_text(lines[0].replace('"golden_id"', '"gold_id"') + "\n")
        upload(aws.s3, tmp_path)
        with pytest.raises(MalformedLineError) as failure:
            invoke(_event(published_run))
    finally:
        logger.removeHandler(handler)

    logs = buffer.getvalue() + capsys.readouterr().out + str(failure.value)
    assert '"run loaded"' in logs
    assert '"ProfilesCreated"' in logs
    assert '"email":1' in logs.replace(" ", "")
    values = {"Lovelace at example"} | {
        value["value"]
        for line in published_run.golden_lines()
        for field, value in line["attributes"].items()
        if field != "country" and value.get("value")
    }
    leaked = [value for value in values if re.search(rf"(?<![\w@+]){re.escape(value)}(?![\w@])", logs)]
    assert leaked == []


def test_given_an_event_for_an_object_that_is_not_a_manifest_when_invoked_then_a_clear_error(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    with pytest.raises(NotAManifestError, match="not a run manifest"):
        invoke(manifest_event(f"{MDM_PREFIX}golden_records/run_id={published_run.run_id}/part-00000.json"))


def test_given_an_event_from_another_bucket_when_invoked_then_it_is_refused(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    with pytest.raises(WrongBucketError, match="other-bucket"):
        invoke(manifest_event(MDM_PREFIX + published_run.manifest_key, bucket="other-bucket"))


def test_given_a_run_missing_a_data_set_when_invoked_then_a_clear_error_and_nothing_written(
    aws: Aws, invoke: Invoke, published_run: PublishedRun, tmp_path: Path
) -> None:
    shutil.copytree(published_run.folder, tmp_path, dirs_exist_ok=True)
    shutil.rmtree(tmp_path / f"identity_links/run_id={published_run.run_id}")
    upload(aws.s3, tmp_path)

    with pytest.raises(IncompleteRunError, match=r"no part files .*identity_links"):
        invoke(_event(published_run))
    assert aws.scan(CUSTOMER_TABLE) == []


def test_given_a_url_encoded_key_when_invoked_then_it_is_decoded_like_s3_writes_it(
    aws: Aws, invoke: Invoke, published_run: PublishedRun
) -> None:
    upload(aws.s3, published_run.folder)
    encoded = (MDM_PREFIX + published_run.manifest_key).replace("=", "%3D")

    summary = invoke(manifest_event(encoded))

    assert summary["run_id"] == published_run.run_id
