"""Request parameters shared by the routes, with the constraints the OpenAPI document shows."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from eligibility.rule_sets import VERSION_PATTERN
from omni_domain.models import CUSTOMER_ID_PATTERN

CustomerIdPath = Annotated[str, Path(pattern=CUSTOMER_ID_PATTERN, description="the golden customer id")]
VersionPath = Annotated[
    str, Path(pattern=VERSION_PATTERN, description="the rule-set version: lower case, digits, . _ -")
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="a retry with the same key gets the first decision back instead of a new one",
    ),
]
