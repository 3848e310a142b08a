"""Amazon Connect caller lookup: a thin adapter from the contact-flow event to `caller_attributes`.

The flow passes `phone` as a Lambda invocation attribute; without it the caller's
own number (`CustomerEndpoint.Address`) is used. The answer is a flat string map.
Nothing about the caller is logged: only whether the lookup found a customer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import ConnectContactFlowEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import BaseModel, ConfigDict, Field

from connect_lookup.lookup import caller_attributes
from omni_domain import constants
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, DynamoDBIdentityMap
from omni_domain.identifiers import CALLING_CODES, DEFAULT_REGION
from omni_domain.wiring import Wiring

logger = Logger()
metrics = Metrics()


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_table: str = Field(alias=constants.ENV_CUSTOMER_TABLE, min_length=3)
    identity_table: str = Field(alias=constants.ENV_IDENTITY_TABLE, min_length=3)
    default_phone_region: str = Field(
        default=DEFAULT_REGION, alias=constants.ENV_DEFAULT_PHONE_REGION, pattern="^(" + "|".join(CALLING_CODES) + ")$"
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


def _stores() -> tuple[DynamoDBIdentityMap, DynamoDBCustomerRepository, str]:
    settings = Settings.from_environment()
    # The flow waits 3 s: a slow read must end as "unknown caller", not as a timed-out function.
    client = boto3.client(
        "dynamodb", config=Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 2})
    )
    return (
        DynamoDBIdentityMap(client, settings.identity_table),
        DynamoDBCustomerRepository(
            client, customer_table=settings.customer_table, identity_table=settings.identity_table
        ),
        settings.default_phone_region,
    )


# Built once per execution environment on first use (tests and the sandbox reset it).
wiring = Wiring(_stores)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=ConnectContactFlowEvent)
def lambda_handler(event: ConnectContactFlowEvent, context: LambdaContext) -> dict[str, str]:
    identity_map, customers, region = wiring.current()
    phone = event.parameters.get("phone") or _caller_number(event)
    answer = caller_attributes(phone, identity_map=identity_map, customers=customers, default_region=region)
    known = answer["known"] == "true"
    metrics.add_metric(name="CallerKnown" if known else "CallerUnknown", unit=MetricUnit.Count, value=1)
    logger.info("caller lookup", extra={"known": known, "contact_id": event.contact_data.contact_id})
    return answer


def _caller_number(event: ConnectContactFlowEvent) -> str | None:
    endpoint: Any = event.contact_data.customer_endpoint
    return endpoint.address if endpoint else None
