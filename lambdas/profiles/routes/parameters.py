"""Request parameters shared by the routes, with the constraints the OpenAPI document shows."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from omni_domain.models import CUSTOMER_ID_PATTERN

CustomerIdPath = Annotated[str, Path(pattern=CUSTOMER_ID_PATTERN, description="the golden customer id")]
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="if-match",
        max_length=64,
        description='the version being replaced, as the ETag of a GET ("3"), or * for any version',
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="a retry with the same key gets the first answer back instead of writing again",
    ),
]
