"""`/customers/{id}/consent`: the consent document, per channel and purpose."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from omni_domain.models import ConsentRequest, CustomerView
from profiles.dependencies import current
from profiles.observability import logger, metrics
from profiles.problems import problem_responses
from profiles.responses import customer_response, customer_responses
from profiles.routes.parameters import CustomerIdPath, IdempotencyKeyHeader, IfMatchHeader
from profiles.writes import WriteCommand

router = Router()


@router.put(
    "/customers/<customer_id>/consent",
    tags=["consent"],
    summary="Replace a customer's consent (true or false per channel and purpose)",
    description="Each decision is stamped with the time it last changed. If-Match is required (428 without, "
    "412 when stale).",
    responses={
        **customer_responses(description="The customer with its new consent"),
        **problem_responses(400, 404, 409, 412, 415, 422, 428, 500),
    },
)
def put_consent(
    customer_id: CustomerIdPath,
    consent: Annotated[ConsentRequest, Body()],
    if_match: IfMatchHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CustomerView]:
    command = WriteCommand(
        operation="consent",
        customer_id=customer_id,
        if_match=if_match,
        body={channel: dict(purposes) for channel, purposes in consent.items()},
        idempotency_key=idempotency_key,
    )
    outcome = current().writes.run(command)
    metrics.add_metric(name="ConsentUpdated", unit=MetricUnit.Count, value=1)
    logger.info("ConsentUpdated", extra={"customer_id": customer_id})
    return customer_response(outcome.customer)
