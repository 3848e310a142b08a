"""Request parameters shared by the routes, with the constraints the OpenAPI document shows.

An optional header is None when absent; the document shows it as a string only (`documented_as`).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import StringConstraints

from omni_domain.models import CUSTOMER_ID_PATTERN
from profiles.preconditions import IF_MATCH_PATTERN
from rest_api.openapi import IdempotencyKey, documented_as

IfMatch = Annotated[str, StringConstraints(max_length=64)]
# The document gives the ETag's shape; `expected_version` checks it, so a weak or malformed tag is the domain's
# 400 naming If-Match, as before the document said so.
DocumentedIfMatch = Annotated[str, StringConstraints(max_length=64, pattern=IF_MATCH_PATTERN)]
CustomerIdPath = Annotated[str, Path(pattern=CUSTOMER_ID_PATTERN, description="the golden customer id")]
IfMatchHeader = Annotated[
    IfMatch | None,
    documented_as(DocumentedIfMatch),
    Header(
        alias="if-match",
        description='the version being replaced, as the ETag of a GET ("3"), or * for any version',
    ),
]
IdempotencyKeyHeader = Annotated[
    IdempotencyKey | None,
    documented_as(IdempotencyKey),
    Header(
        alias="idempotency-key",
        description="a retry with the same key gets the first answer back instead of writing again",
    ),
]
