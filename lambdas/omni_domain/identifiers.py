"""Customer identifiers in their canonical forms, and their keys in the identity map.

The MDM job normalises e-mails and phones before it publishes links
(`glue_jobs.normalise`); these functions give the same result so a lookup by a
channel finds what the job wrote (a contract test compares the two). Unlike the
job, which drops unusable values, a request with an unusable value is an error.
"""

from __future__ import annotations

from typing import Literal, get_args

from omni_domain.errors import ValidationFailedError

IdentifierKind = Literal["email", "phone", "source", "device"]
IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = get_args(IdentifierKind)
KEY_SEPARATOR = "#"

# Country calling codes of the markets the platform serves (as in the MDM job).
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
DEFAULT_REGION = "GB"
# E.164 allows at most 15 digits; fewer than 8 cannot be a subscriber number anywhere we serve.
_E164_DIGITS = range(8, 16)
_MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit


def normalise_email(raw: str, *, field: str = "email") -> str:
    """`  Ada@Example.COM ` -> `ada@example.com`; one `@` between a local part and a dotted domain."""
    email = raw.strip().replace(" ", "").lower()
    local, at, domain = email.partition("@")
    if not at or not local or "@" in domain or "." not in domain.strip(".") or not email.isprintable():
        raise ValidationFailedError("not an e-mail address (expected local-part@domain)", field=field)
    if len(email) > _MAX_EMAIL_LENGTH:
        raise ValidationFailedError(f"an e-mail address has at most {_MAX_EMAIL_LENGTH} characters", field=field)
    return email


def normalise_phone(raw: str, *, default_region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """The E.164 form (`+447700900123`) of a phone number written in any common format.

    A national number (leading 0 or no prefix) takes the calling code of
    `default_region`; `00` is the international prefix used across Europe.
    """
    value = raw.strip()
    if not value or any(not (char.isdigit() or char in " +-().") for char in value):
        raise ValidationFailedError("not a phone number (digits, spaces, + - ( ) . only)", field=field)
    digits = "".join(char for char in value if char.isdigit())
    if value.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        calling_code = CALLING_CODES.get(default_region.upper())
        if calling_code is None:
            raise ValidationFailedError(
                f"a national number needs a known region ({', '.join(sorted(CALLING_CODES))}); use +<country code>",
                field=field,
            )
        national = digits[1:] if digits.startswith("0") else digits
        # A national number sometimes already carries the calling code without the plus.
        international = (
            national if national.startswith(calling_code) and len(national) > 10 else calling_code + national
        )
    if len(international) not in _E164_DIGITS or international.startswith("0"):
        raise ValidationFailedError("not a phone number (E.164 has 8 to 15 digits)", field=field)
    return "+" + international


def identifier_key(kind: IdentifierKind, value: str) -> str:
    """The identity map key of a canonical identifier: `email#ada@example.com`, `source#crm:123`."""
    return f"{kind}{KEY_SEPARATOR}{value}"


def identifier_kind(key: str) -> IdentifierKind:
    """The kind of an identity map key (`phone#+44...` -> `phone`)."""
    kind, separator, value = key.partition(KEY_SEPARATOR)
    for known in IDENTIFIER_KINDS:
        if separator and value and kind == known:
            return known
    raise ValueError(f"not an identity map key: expected one of {IDENTIFIER_KINDS} followed by {KEY_SEPARATOR!r}")
