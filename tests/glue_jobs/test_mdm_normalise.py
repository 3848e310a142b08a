from __future__ import annotations

import pandas as pd
import pytest

from glue_jobs.customer_schema import SOURCE_COLUMNS, SchemaError
from glue_jobs.normalise import (
    MATCH_COLUMNS,
    normalise_address,
    normalise_date,
    normalise_email,
    normalise_first_name,
    normalise_frame,
    normalise_name,
    normalise_phone,
    normalise_postcode,
)


@pytest.mark.parametrize(
    "raw",
    ["07700 900123", "+44 7700 900123", "0044 7700 900123", "(07700) 900 123", "+447700900123", "447700900123"],
)
def test_given_uk_phone_formats_when_normalised_then_all_give_one_e164(raw: str) -> None:
    assert normalise_phone(raw, "GB") == "+447700900123"


def test_given_irish_national_number_when_normalised_then_country_prefix_is_used() -> None:
    assert normalise_phone("087 123 4567", "IE") == "+353871234567"


@pytest.mark.parametrize("raw", [None, "", "n/a", "123", "0000"])
def test_given_unusable_phone_when_normalised_then_none(raw: str | None) -> None:
    assert normalise_phone(raw, "GB") is None


def test_given_email_variants_when_normalised_then_lower_case_and_trimmed() -> None:
    assert normalise_email("  John.Smith@Example.COM ") == "john.smith@example.com"
    assert normalise_email("not-an-email") is None
    assert normalise_email("a@b@c.com") is None


def test_given_diacritics_and_nicknames_when_normalised_then_folded_to_formal_ascii() -> None:
    assert normalise_name("  Zoë  MÜLLER ") == "zoe muller"
    assert normalise_first_name("Bill") == "william"
    assert normalise_first_name("Jean-Luc") == "jean-luc"
    assert normalise_name("O'Brien") == "o'brien"


def test_given_postcode_and_address_variants_when_normalised_then_canonical() -> None:
    assert normalise_postcode(" sw1a 1aa") == "SW1A1AA"
    assert normalise_address("12, High Street") == "12 high st"


@pytest.mark.parametrize("raw", ["1980-02-01", "19800201", "01/02/1980", "1980-02-01T00:00:00Z"])
def test_given_date_formats_when_normalised_then_iso(raw: str) -> None:
    assert normalise_date(raw) == "1980-02-01"


def test_given_source_frame_when_normalised_then_match_columns_with_record_key() -> None:
    row = dict.fromkeys(SOURCE_COLUMNS) | {
        "source_system": "crm",
        "source_id": "7",
        "first_name": "Bob",
        "phone": "07700 900123",
        "country": "GB",
    }
    result = normalise_frame(pd.DataFrame([row]))
    assert tuple(result.columns) == MATCH_COLUMNS
    assert result.loc[0, "unique_id"] == "crm:7"
    assert result.loc[0, "first_name"] == "robert"
    assert result.loc[0, "phone"] == "+447700900123"


def test_given_frame_without_email_column_when_normalised_then_schema_error_names_it() -> None:
    frame = pd.DataFrame([dict.fromkeys(c for c in SOURCE_COLUMNS if c != "email")])
    with pytest.raises(SchemaError, match="email"):
        normalise_frame(frame)
