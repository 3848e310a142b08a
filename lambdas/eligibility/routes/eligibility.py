"""`/customers/{customer_id}/eligibility`: decide whether a customer is eligible for a product or an offer."""

from __future__ import annotations

from typing import Annotated, Any, Self, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, ConfigDict, model_validator

from eligibility.decisions import EligibilityDecision
from eligibility.dependencies import current
from eligibility.problems import problem_responses
from eligibility.routes.parameters import CustomerIdPath, IdempotencyKeyHeader
from eligibility.rule_sets import OfferCode, Product
from eligibility.writes import DecisionCommand
from rest_api.openapi import documented_as, success

router = Router()


class EligibilityRequest(BaseModel):
    """Exactly one of `product` (every offer of it) or `offer_code` (that offer)."""

    # The document says "exactly one" as `oneOf`, and neither member as nullable: a client (or a fuzzer) reading
    # it knows what is accepted. An explicit null is refused as the document says, not read as "absent".
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"oneOf": [{"required": ["product"]}, {"required": ["offer_code"]}]},
    )

    product: Annotated[Product | None, documented_as(Product)] = None
    offer_code: Annotated[OfferCode | None, documented_as(OfferCode)] = None

    @model_validator(mode="before")
    @classmethod
    def no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(data.get(name, "") is None for name in ("product", "offer_code")):
            raise ValueError("give exactly one of product or offer_code (a string, not null)")
        return data

    @model_validator(mode="after")
    def one_target(self) -> Self:
        if (self.product is None) == (self.offer_code is None):
            raise ValueError("give exactly one of product or offer_code")
        return self


@router.post(
    "/customers/<customer_id>/eligibility",
    tags=["eligibility"],
    summary="Decide whether a customer is eligible for a product's offers or for one offer",
    description="Rules of the active rule set over the customer's profile and live state, with the propensity "
    "model's score. When the model is unavailable the rules decide alone and `score_source` is `fallback`. "
    "Every decision is recorded for audit. Idempotency-Key replays the first decision.",
    responses={
        **success(200, EligibilityDecision, "The decision, with its reasons"),
        **problem_responses(400, 404, 409, 415, 422, 500),
    },
)
def decide(
    customer_id: CustomerIdPath,
    request: Annotated[EligibilityRequest, Body()],
    idempotency_key: IdempotencyKeyHeader = None,
) -> EligibilityDecision:
    event = cast(APIGatewayProxyEvent, router.current_event)
    command = DecisionCommand(
        customer_id=customer_id,
        product=request.product,
        offer_code=request.offer_code,
        request_id=event.request_context.request_id,
        idempotency_key=idempotency_key,
    )
    return current().decisions.run(command).decision
