"""Survivorship: which value of a matched cluster becomes the golden value of each field.

Pure and configurable per field. Every rule sees the cluster's candidate values
with their provenance and returns one of them, so every golden field can name the
source system and record it came from. Ties are broken the same way every time
(most recent, then smallest record key) so re-runs give the same golden record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from glue_jobs.customer_schema import ATTRIBUTE_COLUMNS, record_key


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One member of a cluster: its identity, last update and attribute values (None when not captured)."""

    source_system: str
    source_id: str
    updated_at: str
    values: Mapping[str, str | None]

    @property
    def key(self) -> str:
        return record_key(self.source_system, self.source_id)


@dataclass(frozen=True, slots=True)
class GoldenValue:
    """A surviving value and where it came from (both None when no member had a value)."""

    value: str | None
    source_system: str | None = None
    source_id: str | None = None


class Rule(Protocol):
    """Chooses the surviving record for one field among the members that have a value for it."""

    def choose(self, candidates: Sequence[SourceRecord], field_name: str) -> SourceRecord: ...


def _recency_key(record: SourceRecord) -> tuple[str, str]:
    # ISO-8601 timestamps order correctly as strings; the inverted key makes the
    # smallest record key win among equally recent records.
    return (record.updated_at, "".join(chr(0x10FFFF - ord(char)) for char in record.key))


def _most_recent(candidates: Sequence[SourceRecord]) -> SourceRecord:
    return max(candidates, key=_recency_key)


@dataclass(frozen=True, slots=True)
class MostRecent:
    """The value from the most recently updated record that has one."""

    def choose(self, candidates: Sequence[SourceRecord], field_name: str) -> SourceRecord:
        return _most_recent(candidates)


@dataclass(frozen=True, slots=True)
class MostFrequent:
    """The value most members agree on; the most recent record among the tied values wins."""

    def choose(self, candidates: Sequence[SourceRecord], field_name: str) -> SourceRecord:
        counts = Counter(record.values[field_name] for record in candidates)
        top = max(counts.values())
        return _most_recent([record for record in candidates if counts[record.values[field_name]] == top])


@dataclass(frozen=True, slots=True)
class SourcePriority:
    """The value from the most trusted source system that has one; systems not listed rank last."""

    order: tuple[str, ...]

    def choose(self, candidates: Sequence[SourceRecord], field_name: str) -> SourceRecord:
        rank = {system: position for position, system in enumerate(self.order)}
        best = min(rank.get(record.source_system, len(self.order)) for record in candidates)
        return _most_recent(
            [record for record in candidates if rank.get(record.source_system, len(self.order)) == best]
        )


@dataclass(frozen=True, slots=True)
class SurvivorshipPolicy:
    """A rule per field, and the fields that must survive together.

    Attributes:
        rules: field -> rule; every attribute column needs one.
        groups: fields taken from one record (the one the group's first field's rule
            picks), so a golden address never mixes the street of one home with the
            postcode of another.
    """

    rules: Mapping[str, Rule]
    groups: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        missing = [column for column in ATTRIBUTE_COLUMNS if column != "updated_at" and column not in self.rules]
        if missing:
            raise ValueError(f"survivorship policy has no rule for {', '.join(missing)}")
        grouped = [name for group in self.groups for name in group]
        if len(grouped) != len(set(grouped)):
            raise ValueError("a field belongs to more than one survivorship group")


CRM_FIRST = ("crm", "loyalty", "ecommerce", "store_pos")

DEFAULT_POLICY = SurvivorshipPolicy(
    rules={
        "first_name": MostFrequent(),
        "last_name": MostFrequent(),
        "email": MostRecent(),
        "phone": MostRecent(),
        "address_line": MostRecent(),
        "city": MostRecent(),
        "postcode": MostRecent(),
        "country": MostRecent(),
        # Birth dates are verified at CRM and loyalty sign-up; web and till entries are not.
        "date_of_birth": SourcePriority(order=CRM_FIRST),
    },
    groups=(("address_line", "city", "postcode", "country"),),
)


@dataclass(frozen=True, slots=True)
class Survived:
    """The survivorship result of one cluster, before it is given a golden id."""

    members: tuple[str, ...]
    values: Mapping[str, GoldenValue] = field(default_factory=dict)
    updated_at: str = ""


def _golden_value(record: SourceRecord | None, field_name: str) -> GoldenValue:
    if record is None or record.values.get(field_name) is None:
        return GoldenValue(value=None)
    return GoldenValue(
        value=record.values.get(field_name), source_system=record.source_system, source_id=record.source_id
    )


def survive(members: Sequence[SourceRecord], policy: SurvivorshipPolicy = DEFAULT_POLICY) -> Survived:
    """The golden values of one cluster under `policy`."""
    if not members:
        raise ValueError("a cluster has at least one member")
    values: dict[str, GoldenValue] = {}
    grouped = {group[0]: group for group in policy.groups}
    in_a_group = {name for group in policy.groups for name in group[1:]}
    for field_name, rule in policy.rules.items():
        if field_name in in_a_group:
            continue
        candidates = [record for record in members if record.values.get(field_name) is not None]
        chosen = rule.choose(candidates, field_name) if candidates else None
        for name in grouped.get(field_name, (field_name,)):
            values[name] = _golden_value(chosen, name)
    latest = _most_recent(members)
    return Survived(
        members=tuple(sorted(record.key for record in members)),
        values=values,
        updated_at=latest.updated_at,
    )
