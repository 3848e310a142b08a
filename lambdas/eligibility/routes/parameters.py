"""Request parameters shared by the routes, with the constraints the OpenAPI document shows.

An optional header is None when absent; the document shows it as a string only (`documented_as`).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from eligibility.rule_sets import VERSION_PATTERN
from omni_domain.models import CUSTOMER_ID_PATTERN
from rest_api.openapi import IdempotencyKey, documented_as

CustomerIdPath = Annotated[str, Path(pattern=CUSTOMER_ID_PATTERN, description="the golden customer id")]
VersionPath = Annotated[
    str, Path(pattern=VERSION_PATTERN, description="the rule-set version: lower case, digits, . _ -")
]
IdempotencyKeyHeader = Annotated[
    IdempotencyKey | None,
    documented_as(IdempotencyKey),
    Header(
        alias="idempotency-key",
        description="a retry with the same key gets the first decision back instead of a new one",
    ),
]
