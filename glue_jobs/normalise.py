"""Normalisation of customer attributes before matching.

Matching compares strings, so every formatting difference that carries no meaning
(case, diacritics, spacing, phone formats, nicknames) is removed first; what is left
to the model is the real disagreement. Each function is pure and maps a raw value
to its canonical form or to None when nothing usable remains.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS, check_columns, record_key
from glue_jobs.nicknames import formal_first_name

# Country calling codes of the markets the platform serves; a national number from
# elsewhere is only usable if it was captured in international form.
CALLING_CODES: dict[str, str] = {
    "AU": "61",
    "DE": "49",
    "ES": "34",
    "FR": "33",
    "GB": "44",
    "IE": "353",
    "IT": "39",
    "NL": "31",
    "US": "1",
}
DEFAULT_COUNTRY = "GB"

# E.164 allows at most 15 digits; fewer than 8 cannot be a subscriber number anywhere we serve.
_E164_DIGITS = range(8, 16)

_STREET_ABBREVIATIONS: dict[str, str] = {
    "avenue": "ave",
    "boulevard": "blvd",
    "close": "cl",
    "court": "ct",
    "crescent": "cres",
    "drive": "dr",
    "lane": "ln",
    "place": "pl",
    "road": "rd",
    "square": "sq",
    "street": "st",
    "terrace": "tce",
}

_NON_NAME_CHARACTERS = re.compile(r"[^a-z' -]+")
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y")

MATCH_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "postcode",
    "city",
    "address_line",
)
"""The columns the matching model reads: `unique_id` is the record key, the rest are normalised."""


def _blank_to_none(raw: object) -> str | None:
    # pandas hands missing values over as NaN (a float) or None; both mean "not captured".
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    stripped = str(raw).strip()
    return stripped or None


def ascii_fold(text: str) -> str:
    """Lower-case text with diacritics removed: `Zoë Müller` -> `zoe muller`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=65536)
def normalise_name(raw: str | None) -> str | None:
    """A last name (or any personal name) folded to lower-case ASCII letters, hyphens and apostrophes."""
    value = _blank_to_none(raw)
    if value is None:
        return None
    cleaned = _SPACES.sub(" ", _NON_NAME_CHARACTERS.sub(" ", ascii_fold(value))).strip(" -'")
    return cleaned or None


@lru_cache(maxsize=65536)
def normalise_first_name(raw: str | None) -> str | None:
    """A first name folded like `normalise_name`, with a known nickname replaced by the formal name."""
    name = normalise_name(raw)
    return formal_first_name(name) if name else None


def normalise_email(raw: str | None) -> str | None:
    """A trimmed, lower-cased e-mail address, or None if it has no single `@` between two parts."""
    value = _blank_to_none(raw)
    if value is None:
        return None
    email = value.replace(" ", "").lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or "@" in domain:
        return None
    return email


def normalise_phone(raw: str | None, country: str | None = None) -> str | None:
    """The E.164 form (`+447700900123`) of a phone number written in any common format.

    A national number (leading 0 or no prefix) takes the calling code of the record's
    country; `00` is the international prefix used across Europe.
    """
    value = _blank_to_none(raw)
    if value is None:
        return None
    digits = "".join(char for char in value if char.isdigit())
    if value.lstrip().startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        calling_code = CALLING_CODES.get((country or DEFAULT_COUNTRY).strip().upper())
        if calling_code is None:
            return None
        national = digits[1:] if digits.startswith("0") else digits
        # A national number sometimes already carries the calling code without the plus.
        international = (
            national if national.startswith(calling_code) and len(national) > 10 else calling_code + national
        )
    if len(international) not in _E164_DIGITS or international.startswith("0"):
        return None
    return "+" + international


def normalise_postcode(raw: str | None) -> str | None:
    """A postcode in upper case without spaces or punctuation: ` sw1a 1aa ` -> `SW1A1AA`."""
    value = _blank_to_none(raw)
    if value is None:
        return None
    return _NON_ALPHANUMERIC.sub("", value.lower()).upper() or None


@lru_cache(maxsize=65536)
def normalise_city(raw: str | None) -> str | None:
    """A town folded to lower-case ASCII words."""
    value = _blank_to_none(raw)
    if value is None:
        return None
    return _SPACES.sub(" ", _NON_ALPHANUMERIC.sub(" ", ascii_fold(value))).strip() or None


def normalise_address(raw: str | None) -> str | None:
    """A street address folded to ASCII words with street types abbreviated (`Road` -> `rd`)."""
    words = (normalise_city(raw) or "").split()
    return " ".join(_STREET_ABBREVIATIONS.get(word, word) for word in words) or None


def normalise_date(raw: str | None) -> str | None:
    """An ISO date (`YYYY-MM-DD`) from the date formats seen in source systems, or None if unparseable."""
    value = _blank_to_none(raw)
    if value is None:
        return None
    text = value[:10] if len(value) > 10 and value[4:5] == "-" else value
    for date_format in _DATE_FORMATS:
        try:
            parsed: date = datetime.strptime(text, date_format).date()
        except ValueError:
            continue
        return parsed.isoformat()
    return None


def normalise_frame(records: pd.DataFrame) -> pd.DataFrame:
    """The matching input for source records: one row per record, `MATCH_COLUMNS` in order.

    Works on a pandas frame so the same function runs locally and inside Spark's
    `mapInPandas` on Glue.
    """
    check_columns(records.columns)
    rows = records[list(SOURCE_COLUMNS)].astype(object).where(records.notna(), None)
    countries = rows["country"].tolist()
    normalised = pd.DataFrame(
        {
            "unique_id": [
                record_key(str(system), str(source_id))
                for system, source_id in zip(rows["source_system"], rows["source_id"], strict=True)
            ],
            "first_name": [normalise_first_name(value) for value in rows["first_name"]],
            # Nicknames are resolved in both columns so a swapped `Harry`/`Henry` still lines up.
            "last_name": [normalise_first_name(value) for value in rows["last_name"]],
            "email": [normalise_email(value) for value in rows["email"]],
            "phone": [normalise_phone(value, country) for value, country in zip(rows["phone"], countries, strict=True)],
            "date_of_birth": [normalise_date(value) for value in rows["date_of_birth"]],
            "postcode": [normalise_postcode(value) for value in rows["postcode"]],
            "city": [normalise_city(value) for value in rows["city"]],
            "address_line": [normalise_address(value) for value in rows["address_line"]],
        },
        columns=list(MATCH_COLUMNS),
    )
    return normalised
