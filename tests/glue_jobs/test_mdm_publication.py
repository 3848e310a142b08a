from __future__ import annotations

import json

from glue_jobs.publication import (
    IdentityLink,
    candidate_links,
    golden_record,
    prepare_record,
    resolve_links,
    source_links,
)

ROW = {
    "source_system": "store_pos",
    "source_id": "42",
    "first_name": "JOHN",
    "last_name": "McDonald",
    "email": " John@Example.com ",
    "phone": "07700 900123",
    "address_line": "1  High Street",
    "city": "Leeds",
    "postcode": "ls1 1aa",
    "country": "gb",
    "date_of_birth": "01/02/1980",
    "updated_at": "2025-01-01T00:00:00Z",
}


def test_given_source_row_when_prepared_then_identifiers_normalised_and_names_presentable() -> None:
    record = prepare_record(ROW)
    assert record.values["first_name"] == "John"
    assert record.values["last_name"] == "McDonald"
    assert record.values["email"] == "john@example.com"
    assert record.values["phone"] == "+447700900123"
    assert record.values["postcode"] == "LS1 1AA"
    assert record.values["date_of_birth"] == "1980-02-01"


def test_given_cluster_when_published_then_golden_json_carries_provenance_and_members() -> None:
    golden = golden_record([prepare_record(ROW), prepare_record(ROW | {"source_system": "crm", "source_id": "7"})])
    document = json.loads(golden.to_json())
    assert document["members"] == ["crm:7", "store_pos:42"]
    assert document["attributes"]["email"]["value"] == "john@example.com"
    assert document["attributes"]["email"]["source_system"] in {"crm", "store_pos"}


def test_given_cluster_when_linked_then_every_source_key_email_and_phone_points_to_golden_id() -> None:
    members = [prepare_record(ROW), prepare_record(ROW | {"source_system": "crm", "source_id": "7", "email": None})]
    links = candidate_links(members, "gc-1")
    assert {(link.identifier_type, link.identifier) for link in links} == {
        ("source", "store_pos:42"),
        ("source", "crm:7"),
        ("email", "john@example.com"),
        ("phone", "+447700900123"),
    }


def test_given_phone_shared_by_two_customers_when_resolved_then_it_is_withheld() -> None:
    resolved = resolve_links(
        [
            IdentityLink("phone", "+441", "gc-a"),
            IdentityLink("phone", "+441", "gc-b"),
            IdentityLink("source", "crm:1", "gc-a"),
        ]
    )
    assert resolved.links == [IdentityLink("source", "crm:1", "gc-a")]
    assert resolved.ambiguous == [("phone", "+441")]
    assert source_links(resolved.links) == {"crm:1": "gc-a"}
