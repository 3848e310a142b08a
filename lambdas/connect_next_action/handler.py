"""Amazon Connect next-best-action lookup: a thin adapter from the contact-flow event to `next_action_answer`.

The stage-5 inbound flow passes `customer_id` (stored by the caller lookup) as a
Lambda invocation attribute and gives the function 3 seconds; the decision and
the policy run in-process through the eligibility service, with short AWS client
timeouts so a slow dependency ends in the fallback answer rather than a flow
error. Only the outcome, the action and the customer id are logged.
"""

from __future__ import annotations

import os
import traceback
from functools import cache

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import ConnectContactFlowEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import Field

from connect_next_action.answer import NextActionAnswer, next_action_answer, unavailable
from connect_offers.offers import is_customer_id
from eligibility.composition import service_from_settings
from eligibility.constants import ENV_OFFER_PRODUCT
from eligibility.decisions import EligibilityService
from eligibility.observability import count_decision
from eligibility.rule_sets import PRODUCT_PATTERN
from eligibility.settings import DecisionSettings
from omni_domain.constants import ENV_SERVICE_NAME, NEXT_ACTION_SERVICE

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, NEXT_ACTION_SERVICE))
metrics = Metrics()
# Two short tries per DynamoDB call: the whole lookup must fit Connect's 3 seconds with the model's timeout.
DYNAMODB_CONFIG = Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 2, "mode": "standard"})


class Settings(DecisionSettings):
    # The product whose offers may be recommended: the contact centre's offer product (config).
    product: str = Field(alias=ENV_OFFER_PRODUCT, pattern=PRODUCT_PATTERN)


@cache
def _wired() -> tuple[EligibilityService, str]:
    settings = Settings.from_environment()
    service = service_from_settings(settings, dynamodb=boto3.client("dynamodb", config=DYNAMODB_CONFIG))
    return service, settings.product


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=ConnectContactFlowEvent)
def lambda_handler(event: ConnectContactFlowEvent, context: LambdaContext) -> dict[str, str]:
    customer_id = (event.parameters.get("customer_id") or "").strip()
    try:
        service, product = _wired()
        answer = next_action_answer(service, customer_id, product=product, decision_id=event.contact_data.contact_id)
    except Exception as error:  # noqa: BLE001 - a contact must never fail on the next-action lookup
        logger.error(
            "next action lookup failed",
            extra={"error_type": type(error).__name__, "frames": traceback.format_tb(error.__traceback__)[-4:]},
        )
        answer = unavailable()
    _report(answer, customer_id, event.contact_data.contact_id)
    return answer.attributes


def _report(answer: NextActionAnswer, customer_id: str, contact_id: str) -> None:
    outcome = "".join(part.title() for part in answer.outcome.split("-"))
    metrics.add_metric(name=f"NextAction{outcome}", unit=MetricUnit.Count, value=1)
    if answer.advice is not None:
        count_decision(answer.advice.record, log=logger, sink=metrics)
    logger.info(
        "next action lookup",
        extra={
            "outcome": answer.outcome,
            "action": answer.attributes["next_action"],
            "policy_version": answer.advice.action.policy_version if answer.advice else None,
            "customer_id": customer_id if is_customer_id(customer_id) else None,
            "contact_id": contact_id,
        },
    )
