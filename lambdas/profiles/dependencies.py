"""Composition root: the service and its adapters, built once per execution environment.

Built on first use rather than at import, so a test (or the sandbox) can point
the function at other tables or at in-memory fakes with `use`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from omni_domain.constants import IDEMPOTENCY_EXPIRY_ATTRIBUTE, IDEMPOTENCY_PARTITION_KEY
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, DynamoDBIdentityMap
from omni_domain.profile_service import ProfileService
from omni_domain.wiring import Wiring
from profiles.settings import ProfileSettings
from profiles.writes import CustomerWrites, idempotency_config


@dataclass(frozen=True, slots=True)
class Dependencies:
    service: ProfileService
    writes: CustomerWrites


def from_settings(settings: ProfileSettings, client: Any | None = None) -> Dependencies:
    dynamodb = client or boto3.client("dynamodb")
    service = ProfileService(
        customers=DynamoDBCustomerRepository(
            dynamodb, customer_table=settings.customer_table, identity_table=settings.identity_table
        ),
        identities=DynamoDBIdentityMap(dynamodb, settings.identity_table),
        default_region=settings.default_phone_region,
    )
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        key_attr=IDEMPOTENCY_PARTITION_KEY,
        expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        boto3_client=dynamodb,
    )
    return Dependencies(
        service=service,
        writes=CustomerWrites(service, persistence, idempotency_config(settings.idempotency_expiry_seconds)),
    )


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[Dependencies] = Wiring(lambda: from_settings(ProfileSettings.from_environment()))
current = wiring.current
use = wiring.use
