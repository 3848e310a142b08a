"""`/customers/{customer_id}/next-best-action`: what to do next with this customer, and why (stage 5)."""

from __future__ import annotations

from typing import Annotated, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from eligibility.advice import advise
from eligibility.dependencies import current
from eligibility.next_action import NextBestAction
from eligibility.observability import count_decision, logger, metrics
from eligibility.problems import problem_responses
from eligibility.routes.parameters import CustomerIdPath
from eligibility.rule_sets import PRODUCT_PATTERN
from omni_domain.models import Channel
from rest_api.openapi import documented_as, success

router = Router()

ProductQuery = Annotated[str, Query(pattern=PRODUCT_PATTERN, description="the product whose offers may be recommended")]
ChannelQuery = Annotated[
    Channel | None,
    documented_as(Channel),
    Query(description="the channel asking: marketing actions then need marketing consent on it"),
]


@router.get(
    "/customers/<customer_id>/next-best-action",
    tags=["next best action"],
    summary="The next best action for a customer, with its reasons and inputs",
    description="One action from a closed catalogue, chosen by a fixed priority (service recovery before selling, "
    "never a marketing action without marketing consent) over the live state, an eligibility decision for "
    "`product` (recorded for audit, as any decision) and the propensity score. The `script` is one sentence an "
    "agent can read out, without personal data.",
    responses={
        **success(200, NextBestAction, "The next best action, with its reasons and inputs"),
        **problem_responses(400, 404, 409, 500),
    },
)
def get_next_best_action(
    customer_id: CustomerIdPath, product: ProductQuery, channel: ChannelQuery = None
) -> NextBestAction:
    event = cast(APIGatewayProxyEvent, router.current_event)
    advice = advise(
        current().service,
        customer_id,
        product=product,
        decision_id=event.request_context.request_id,
        channel=channel,
    )
    count_decision(advice.record, log=logger, sink=metrics)
    metrics.add_metric(name="NextBestAction", unit=MetricUnit.Count, value=1)
    logger.info(
        "next best action",
        extra={
            "customer_id": customer_id,
            "action": advice.action.action,
            "policy_version": advice.action.policy_version,
        },
    )
    return advice.action
