"""Decisions, replayed from the idempotency store when a retry sends the same Idempotency-Key.

A decision is a write (its audit record): a client that retries after a
timeout must get the first decision back, not a second one with another score.
The key is the Idempotency-Key and the customer id; what was asked is the
payload, so reusing a key for another question is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from eligibility.decisions import DecisionRecord, EligibilityService
from eligibility.observability import count_decision, logger, metrics
from eligibility.rules import Target


class DecisionCommand(BaseModel):
    customer_id: str
    product: str | None
    offer_code: str | None
    request_id: str
    idempotency_key: str | None = None


def idempotency_config(expiry_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[idempotency_key, customer_id]",
        payload_validation_jmespath="[product, offer_code]",
        expires_after_seconds=expiry_seconds,
    )


class Decisions:
    def __init__(
        self, service: EligibilityService, persistence: BasePersistenceLayer, config: IdempotencyConfig
    ) -> None:
        self._service = service
        self._config = config
        self._replayable: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="command", persistence_store=persistence, config=config, key_prefix="eligibility"
        )(self._execute)

    def register(self, context: LambdaContext) -> None:
        """Lets the store expire an in-progress record if this invocation times out."""
        self._config.register_lambda_context(context)

    def run(self, command: DecisionCommand) -> DecisionRecord:
        if command.idempotency_key is None:
            return DecisionRecord.model_validate(self._execute(command=command))
        return DecisionRecord.model_validate(self._replayable(command=command))

    def _execute(self, command: DecisionCommand) -> dict[str, Any]:
        target = Target(product=command.product, offer_code=command.offer_code)
        record = self._service.decide(command.customer_id, target, decision_id=command.request_id)
        # Counted here, where the decision is made: a replayed answer is not a second decision.
        count_decision(record, log=logger, sink=metrics)
        return record.model_dump(mode="json")
