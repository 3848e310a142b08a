"""From clusters to what the platform publishes: golden records and identity links.

Pure functions shared by the local run and the Glue 5.0 job. The JSON shapes here
are the contract with the loader (S3 event -> Lambda) that upserts DynamoDB.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from glue_jobs.customer_schema import ATTRIBUTE_COLUMNS
from glue_jobs.golden_ids import Merge, golden_id
from glue_jobs.normalise import normalise_date, normalise_email, normalise_phone
from glue_jobs.survivorship import DEFAULT_POLICY, SourceRecord, Survived, SurvivorshipPolicy, survive

IdentifierType = Literal["source", "email", "phone"]
SURVIVING_COLUMNS: tuple[str, ...] = tuple(column for column in ATTRIBUTE_COLUMNS if column != "updated_at")


@dataclass(frozen=True, slots=True)
class GoldenRecord:
    """The survivorship result for one matched cluster, under its deterministic id."""

    golden_id: str
    survived: Survived

    def to_json(self) -> str:
        return json.dumps(
            {
                "golden_id": self.golden_id,
                "members": list(self.survived.members),
                "updated_at": self.survived.updated_at,
                "attributes": {
                    name: {"value": value.value, "source_system": value.source_system, "source_id": value.source_id}
                    for name, value in self.survived.values.items()
                },
            },
            ensure_ascii=False,
            sort_keys=True,
        )


@dataclass(frozen=True, slots=True, order=True)
class IdentityLink:
    """One identifier resolved to a golden id: a source record key, a normalised e-mail or an E.164 phone."""

    identifier_type: IdentifierType
    identifier: str
    golden_id: str

    def to_json(self) -> str:
        return json.dumps(
            {"identifier_type": self.identifier_type, "identifier": self.identifier, "golden_id": self.golden_id},
            ensure_ascii=False,
            sort_keys=True,
        )


def merge_to_json(merge: Merge) -> str:
    return json.dumps({"old_golden_id": merge.old_golden_id, "new_golden_id": merge.new_golden_id}, sort_keys=True)


def _tidy(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN is pandas' missing value
        return None
    text = " ".join(str(value).split())
    return text or None


def _tidy_name(value: object) -> str | None:
    # Systems that shout or whisper names (`JOHN`, `john`) are title-cased; mixed case
    # such as `McDonald` is kept as captured.
    text = _tidy(value)
    if text is None:
        return None
    return text.title() if text.isupper() or text.islower() else text


def prepare_record(row: Mapping[str, object]) -> SourceRecord:
    """A source row (customer schema) as a survivorship candidate with presentable values.

    E-mail, phone and birth date take their normalised forms so the golden record and
    the identity map agree; names, address and city keep their captured spelling.
    """
    country = _tidy(row.get("country"))
    values: dict[str, str | None] = {
        "first_name": _tidy_name(row.get("first_name")),
        "last_name": _tidy_name(row.get("last_name")),
        "email": normalise_email(_tidy(row.get("email"))),
        "phone": normalise_phone(_tidy(row.get("phone")), country),
        "address_line": _tidy(row.get("address_line")),
        "city": _tidy(row.get("city")),
        "postcode": (_tidy(row.get("postcode")) or "").upper() or None,
        "country": country.upper() if country else None,
        "date_of_birth": normalise_date(_tidy(row.get("date_of_birth"))),
    }
    return SourceRecord(
        source_system=str(row["source_system"]),
        source_id=str(row["source_id"]),
        updated_at=_tidy(row.get("updated_at")) or "",
        values=values,
    )


def golden_record(members: Sequence[SourceRecord], policy: SurvivorshipPolicy = DEFAULT_POLICY) -> GoldenRecord:
    """The golden record of one cluster."""
    survived = survive(members, policy)
    return GoldenRecord(golden_id=golden_id(survived.members), survived=survived)


def candidate_links(members: Iterable[SourceRecord], gid: str) -> list[IdentityLink]:
    """Every identifier of a cluster's members pointing at its golden id (before ambiguity is resolved)."""
    links: set[IdentityLink] = set()
    for record in members:
        links.add(IdentityLink("source", record.key, gid))
        identifier_type: IdentifierType
        for identifier_type in ("email", "phone"):
            value = record.values.get(identifier_type)
            if value:
                links.add(IdentityLink(identifier_type, value, gid))
    return sorted(links)


@dataclass(frozen=True, slots=True)
class ResolvedLinks:
    """Identity links safe to publish, and the identifiers withheld because they name several customers."""

    links: list[IdentityLink]
    ambiguous: list[tuple[IdentifierType, str]]


def resolve_links(candidates: Iterable[IdentityLink]) -> ResolvedLinks:
    """Drop e-mails and phones shared by different golden customers (a family phone, a shared inbox).

    Resolving such an identifier to either customer would attach one person's events
    to another; the event processor treats an unresolved identifier as unknown instead.
    """
    owners: dict[tuple[IdentifierType, str], set[str]] = defaultdict(set)
    for link in candidates:
        owners[(link.identifier_type, link.identifier)].add(link.golden_id)
    links = [
        IdentityLink(kind, identifier, next(iter(ids))) for (kind, identifier), ids in owners.items() if len(ids) == 1
    ]
    ambiguous = [identifier for identifier, ids in owners.items() if len(ids) > 1]
    return ResolvedLinks(links=sorted(links), ambiguous=sorted(ambiguous))


def source_links(links: Iterable[IdentityLink]) -> dict[str, str]:
    """`record key -> golden id` from published links: the input of the next run's merges."""
    return {link.identifier: link.golden_id for link in links if link.identifier_type == "source"}
