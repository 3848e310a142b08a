"""The handler end to end: Lambda's DynamoDB stream events in, CustomerStateChanged observed through a bus
rule targeting an SQS queue (moto), the idempotency records in moto DynamoDB."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from event_processor.ledger import Ledger

from .conftest import (
    NOW,
    PII_VALUES,
    World,
    cart,
    complaint,
    erasure,
    invoke,
    live_state,
    profile,
    sequence_of,
    spend,
    state_item,
    stream_event,
    stream_record,
)

FIXTURE = (
    Path(__file__).resolve().parents[3] / "sample_events" / "state-publisher" / "dynamodb_stream_customer_state.json"
)


def _details(world: World) -> list[dict[str, Any]]:
    return [message["detail"] for message in world.drain()]


def _failures(*records: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": sequence_of(record)} for record in records]}


def test_the_stored_stream_event_is_published(world: World, handler: Any) -> None:
    # Given the stored Lambda DynamoDB stream event (a STATE insert, a PROFILE update, a PROFILE removal)
    event = json.loads(FIXTURE.read_text())
    # When the handler runs
    response = invoke(handler, event)
    # Then nothing failed and one event per record reached the bus, with the envelope channels match on
    assert response == {"batchItemFailures": []}
    messages = world.drain()
    assert [(m["source"], m["detail-type"]) for m in messages] == [("omni.customer-state", "CustomerStateChanged")] * 3
    details = [message["detail"] for message in messages]
    assert [(d["record"], d["change"]) for d in details] == [
        ("live_state", "created"),
        ("profile", "updated"),
        ("profile", "removed"),
    ]
    assert [d["change_id"] for d in details] == [record["eventID"] for record in event["Records"]]
    assert [d["sequence"] for d in details] == [sequence_of(record) for record in event["Records"]]


def test_an_insert_publishes_every_field_with_its_value(world: World, handler: Any) -> None:
    # Given a first STATE item: an active cart, 40 spent
    item = state_item("gc-1", live_state(cart=cart(), rolling_spend=spend("40.00"), counters={"purchases": 1}))
    record = stream_record("INSERT", new=item)
    # When published
    assert invoke(handler, stream_event(record)) == {"batchItemFailures": []}
    # Then the detail names the live_state fields, with their values, the version and the stream position
    [detail] = _details(world)
    assert detail["change"] == "created"
    assert detail["changed"] == sorted(set(item["live_state"]) - {"updated_at"})
    assert "updated_at" not in detail["changed"]
    assert detail["values"]["cart"]["status"] == "active"
    assert detail["values"]["rolling_spend"]["last_30_days"] == "40.00"
    assert detail["values"]["counters"] == {"purchases": 1}
    assert detail["version"] == 1
    assert detail["sequence"] == sequence_of(record)
    assert detail["occurred_at"] == "2026-11-29T21:00:00Z"


def test_a_modify_publishes_only_what_changed(world: World, handler: Any) -> None:
    # Given the cart abandoned and a complaint opened, with the ledger and stamp changed too
    old = state_item("gc-1", live_state(cart=cart()))
    new = state_item(
        "gc-1",
        live_state(2, cart=cart("abandoned"), friction_points=[complaint()]).model_copy(
            update={"updated_at": NOW + timedelta(minutes=1)}
        ),
        ledger=Ledger(counters={"complaints": 1}),
    )
    # When published
    invoke(handler, stream_event(stream_record("MODIFY", old=old, new=new)))
    # Then only the two live_state fields are named, with their new values
    [detail] = _details(world)
    assert (detail["change"], detail["changed"], detail["version"]) == ("updated", ["cart", "friction_points"], 2)
    assert detail["values"]["cart"]["status"] == "abandoned"
    assert detail["values"]["friction_points"][0]["reference"] == "cp-1"


def test_a_remove_names_what_is_gone_without_a_version(world: World, handler: Any) -> None:
    # Given the STATE item deleted (an erasure)
    old = state_item("gc-1", live_state(3, cart=cart()))
    # When published
    invoke(handler, stream_event(stream_record("REMOVE", old=old)))
    # Then the removal names its fields, their values are null and the version is null
    [detail] = _details(world)
    assert detail["change"] == "removed"
    assert "cart" in detail["changed"]
    assert set(detail["values"]) == set(detail["changed"])
    assert set(detail["values"].values()) == {None}
    assert detail["version"] is None


def test_a_modify_of_bookkeeping_only_publishes_nothing(world: World, handler: Any) -> None:
    # Given a STATE write that changed only the ledger, the version and updated_at
    old = state_item("gc-1", live_state(4, cart=cart()))
    new = state_item(
        "gc-1",
        live_state(5, cart=cart()).model_copy(update={"updated_at": NOW + timedelta(hours=1)}),
        ledger=Ledger(counters={"page_views": 9}),
    )
    # And a profile write that changed only its version and updated_at
    profile_old, profile_new = profile(version=1), {**profile(version=2), "updated_at": "2026-11-30T08:00:00Z"}
    event = stream_event(
        stream_record("MODIFY", old=old, new=new), stream_record("MODIFY", old=profile_old, new=profile_new)
    )
    # When processed
    response = invoke(handler, event)
    # Then nothing is put on the bus, nothing failed, and no idempotency record was written
    assert response == {"batchItemFailures": []}
    assert world.drain() == []
    assert world.put_events_calls == []
    assert world.idempotency_items() == []


def test_a_replayed_record_is_published_once(world: World, handler: Any) -> None:
    # Given a batch of three changes, published once
    event = stream_event(
        stream_record("INSERT", new=state_item("gc-1", live_state(cart=cart()))),
        stream_record("INSERT", new=profile("gc-2")),
        stream_record("INSERT", new=erasure("gc-3")),
    )
    invoke(handler, event)
    first = _details(world)
    # When Lambda delivers the same records again (a retried batch), twice
    assert invoke(handler, event) == {"batchItemFailures": []}
    invoke(handler, event)
    # Then nothing more reaches the bus: three events in all, one idempotency record per change
    assert len(first) == 3
    assert _details(world) == []
    assert len(world.put_events_calls) == 3
    assert len(world.idempotency_items()) == 3


def test_personal_profile_fields_are_named_never_valued(world: World, handler: Any) -> None:
    # Given a profile created, then every personal field and the preferred channel changed
    created = profile()
    changed = profile(
        version=2,
        first_name="Amazing",
        last_name="Grace",
        email="amazing.grace@example.net",
        phone="+447700900999",
        date_of_birth="1906-12-10",
        preferred_channel="push",
    )
    event = stream_event(stream_record("INSERT", new=created), stream_record("MODIFY", old=created, new=changed))
    # When published
    invoke(handler, event)
    # Then the personal values appear nowhere in what reached the bus, only their names
    messages = world.drain()
    raw = json.dumps(messages)
    for needle in (*PII_VALUES, "Amazing", "amazing.grace", "7700900999", "1906-12-10", "Navy Yard"):
        assert needle not in raw
    insert, update = (message["detail"] for message in messages)
    assert set(insert["values"]) == {"consent", "language", "preferred_channel"}
    assert update["changed"] == ["date_of_birth", "email", "first_name", "last_name", "phone", "preferred_channel"]
    assert update["values"] == {"preferred_channel": "push"}


def test_a_failed_customer_keeps_its_order_and_others_carry_on(world: World, handler: Any) -> None:
    # Given a batch interleaving two customers, and a bus refusing gc-a's events
    a1 = stream_record("INSERT", new=state_item("gc-a", live_state(1, cart=cart())))
    b1 = stream_record("INSERT", new=state_item("gc-b", live_state(1, cart=cart())))
    a2 = stream_record(
        "MODIFY", old=state_item("gc-a", live_state(1, cart=cart())), new=state_item("gc-a", live_state(2))
    )
    b2 = stream_record(
        "MODIFY", old=state_item("gc-b", live_state(1, cart=cart())), new=state_item("gc-b", live_state(2))
    )
    a3 = stream_record(
        "MODIFY", old=state_item("gc-a", live_state(2)), new=state_item("gc-a", live_state(3, cart=cart()))
    )
    event = stream_event(a1, b1, a2, b2, a3)
    world.refused.add("gc-a")
    # When the batch is processed
    response = invoke(handler, event)
    # Then gc-a's first change failed and its later ones were held back (never tried), gc-b's went out
    assert response == _failures(a1, a2, a3)
    assert world.put_events_calls.count("gc-a") == 3  # one change, three attempts
    assert len(world.sleeps) == 2  # backoff before the second and third attempts, recorded, not waited for
    assert [(d["customer_id"], d["version"]) for d in _details(world)] == [("gc-b", 1), ("gc-b", 2)]
    # When the bus recovers and Lambda retries from the first failed record (b1 and b2 come again)
    world.refused.clear()
    retried = invoke(handler, stream_event(a1, b1, a2, b2, a3))
    # Then gc-a's changes are published once each, in stream order, and gc-b's are not repeated
    assert retried == {"batchItemFailures": []}
    assert [(d["customer_id"], d["version"]) for d in _details(world)] == [("gc-a", 1), ("gc-a", 2), ("gc-a", 3)]


def test_a_put_events_entry_failure_is_a_batch_item_failure(world: World, handler: Any) -> None:
    # Given three customers' changes and a bus answering FailedEntryCount 1 for gc-2's entry
    records = [stream_record("INSERT", new=profile(f"gc-{number}")) for number in range(1, 4)]
    world.refused.add("gc-2")
    # When processed
    response = invoke(handler, stream_event(*records))
    # Then only gc-2's record is reported for retry; its idempotency claim is released for the retry
    assert response == _failures(records[1])
    assert sorted(d["customer_id"] for d in _details(world)) == ["gc-1", "gc-3"]
    assert len(world.idempotency_items()) == 2
    # And on the retry it is published
    world.refused.clear()
    assert invoke(handler, stream_event(*records[1:])) == {"batchItemFailures": []}
    assert [d["customer_id"] for d in _details(world)] == ["gc-2"]


def test_when_every_record_fails_all_are_reported_not_raised(world: World, handler: Any) -> None:
    records = [stream_record("INSERT", new=profile("gc-1")), stream_record("INSERT", new=erasure("gc-1"))]
    world.refused.add("gc-1")
    assert invoke(handler, stream_event(*records)) == _failures(*records)


def test_a_stream_without_both_images_fails_loudly(world: World, handler: Any) -> None:
    # Given a record from a stream configured with NEW_IMAGE only (a deployment error)
    record = stream_record("INSERT", new=profile(), view_type="NEW_IMAGE")
    # Then it is reported failed, not published as a change without its old fields
    assert invoke(handler, stream_event(record)) == _failures(record)
    assert world.drain() == []


def test_records_the_contract_does_not_publish_are_consumed(world: World, handler: Any) -> None:
    # Given a MERGED record (written by the MDM loader under a merged-away id)
    merged = {"customer_id": "gc-old", "record": "MERGED", "merged_into": "gc-new", "run_id": "r1"}
    response = invoke(handler, stream_event(stream_record("INSERT", new=merged)))
    assert response == {"batchItemFailures": []}
    assert world.drain() == []


def test_logs_and_metrics_carry_counts_and_customer_ids_only(
    world: World, handler: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a profile insert, a modify of bookkeeping only, and a refused change of another customer
    same = state_item("gc-1", live_state(1))
    records = [
        stream_record("INSERT", new=profile("gc-1")),
        stream_record("MODIFY", old=same, new={**same, "ledger": {"counters": {"x": 1}}}),
        stream_record("INSERT", new=profile("gc-9")),
    ]
    world.refused.add("gc-9")
    invoke(handler, stream_event(*records))
    written = capsys.readouterr().out + caplog.text
    # Then the counts are in one EMF blob and the failed customer is named, with no personal value anywhere
    blobs = [json.loads(line) for line in written.splitlines() if line.startswith("{") and '"_aws"' in line]
    [totals] = [blob for blob in blobs if "ChangesPublished" in blob]
    assert (totals["RecordsReceived"], totals["ChangesPublished"], totals["RecordsUnchanged"]) == ([3.0], [1.0], [1.0])
    assert totals["RecordsFailed"] == [1.0]
    assert totals["service"] == "state-publisher"
    assert [getattr(record, "customer_id", None) for record in caplog.records if record.levelname == "WARNING"] == [
        "gc-9"
    ]
    for needle in PII_VALUES:
        assert needle not in written
