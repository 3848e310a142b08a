"""The source schema of customer records, as they land in the raw bucket.

One definition serves the local engine, the Glue jobs and the Glue table the CDK
side declares: `SOURCE_COLUMNS` is the column order, `CustomerRecord` documents and
types one row. Every column is a string on disk (CSV or Parquet): parsing dates and
phone numbers is the normaliser's job, so a malformed value never stops a load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One customer as one source system knows it.

    Attributes:
        source_system: the system of record: `crm`, `ecommerce`, `store_pos`, `loyalty`, ...
        source_id: the record's key inside its source system (unique per system).
        first_name: given name as captured (any case, may carry diacritics or a nickname).
        last_name: family name as captured.
        email: e-mail address as captured (any case, may be surrounded by spaces).
        phone: phone number in any national or international format.
        address_line: street address (number and street) as one line.
        city: town or city.
        postcode: postal code in any spacing or case.
        country: ISO 3166-1 alpha-2 code (`GB`, `AU`, ...); it decides the phone prefix.
        date_of_birth: ISO date `YYYY-MM-DD`.
        updated_at: ISO-8601 timestamp of the last change in the source system (UTC).
    """

    source_system: str
    source_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address_line: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    date_of_birth: str | None = None
    updated_at: str | None = None

    @property
    def key(self) -> str:
        """The record's identifier across systems: `source_system:source_id`."""
        return record_key(self.source_system, self.source_id)


SOURCE_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(CustomerRecord))
"""Column order of a source file; also the Glue table's columns (all `string`)."""

REQUIRED_COLUMNS: tuple[str, ...] = ("source_system", "source_id")
"""Columns that must hold a value in every row: together they identify a record."""

# The golden record carries every descriptive column; the two key columns become provenance.
ATTRIBUTE_COLUMNS: tuple[str, ...] = tuple(column for column in SOURCE_COLUMNS if column not in REQUIRED_COLUMNS)


class SchemaError(ValueError):
    """Source data does not follow the customer schema."""


def record_key(source_system: str, source_id: str) -> str:
    """The cross-system identifier of a source record, as published in the identity map."""
    return f"{source_system}:{source_id}"


def check_columns(columns: Iterable[str]) -> None:
    """Fail with every missing column named, before any work starts on a bad file."""
    missing = [column for column in SOURCE_COLUMNS if column not in set(columns)]
    if missing:
        raise SchemaError(f"customer data lacks column(s) {', '.join(missing)}; expected {', '.join(SOURCE_COLUMNS)}")
