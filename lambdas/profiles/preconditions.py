"""ETags and If-Match: the profile version as an HTTP precondition."""

from __future__ import annotations

import re

from omni_domain.errors import InvalidRequestError
from omni_domain.profile_rules import IF_MATCH, ExpectedVersion

_STRONG_TAG = re.compile(r'^"?([0-9]{1,18})"?$')
# What `expected_version` accepts, for the OpenAPI document: a version ETag (quotes optional) or *.
IF_MATCH_PATTERN = r'^(\*|"?[0-9]{1,18}"?)$'


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> ExpectedVersion:
    """`"3"` or `3` -> 3, `*` -> any version, absent -> None.

    A weak tag (`W/"3"`) never satisfies If-Match (RFC 9110 13.1.1 uses the
    strong comparison), so it is rejected as malformed rather than ignored.
    """
    if if_match is None:
        return None
    value = if_match.strip()
    if value == "*":
        return "*"
    match = _STRONG_TAG.match(value)
    if match is None:
        raise InvalidRequestError('If-Match must be a version ETag such as "3" (or *)', field=IF_MATCH)
    return int(match.group(1))
