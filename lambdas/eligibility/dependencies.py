"""Composition root of the API: the service and the idempotent decisions, built once per execution environment.

Built on first use rather than at import, so a test (or the sandbox) can point
the function at other tables, another endpoint or in-memory fakes with `use`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from eligibility.composition import service_from_settings
from eligibility.decisions import EligibilityService
from eligibility.settings import ApiSettings
from eligibility.writes import Decisions, idempotency_config
from omni_domain.constants import IDEMPOTENCY_EXPIRY_ATTRIBUTE, IDEMPOTENCY_PARTITION_KEY
from omni_domain.wiring import Wiring


@dataclass(frozen=True, slots=True)
class Dependencies:
    service: EligibilityService
    decisions: Decisions


def from_settings(
    settings: ApiSettings, *, dynamodb: Any | None = None, sagemaker_runtime: Any | None = None
) -> Dependencies:
    client = dynamodb or boto3.client("dynamodb")
    service = service_from_settings(settings, dynamodb=client, sagemaker_runtime=sagemaker_runtime)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        key_attr=IDEMPOTENCY_PARTITION_KEY,
        expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        boto3_client=client,
    )
    return Dependencies(
        service, Decisions(service, persistence, idempotency_config(settings.idempotency_expiry_seconds))
    )


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[Dependencies] = Wiring(lambda: from_settings(ApiSettings.from_environment()))
current = wiring.current
use = wiring.use
