"""Customer writes, replayed from the idempotency store when a retry sends the same Idempotency-Key.

The key of a stored answer is the Idempotency-Key and the customer id; the
operation, If-Match and body are its payload, so reusing a key for a different
request is refused (IdempotencyValidationError) instead of answered with the
first request's result. A write that fails is not stored: its retry runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, TypeAdapter

from omni_domain.models import ConsentRequest, CustomerView, ProfileAttributes
from omni_domain.profile_service import ProfileService
from profiles.preconditions import expected_version

Operation = Literal["put", "patch", "consent"]
_consent_request: TypeAdapter[ConsentRequest] = TypeAdapter(ConsentRequest)


class WriteCommand(BaseModel):
    operation: Operation
    customer_id: str
    if_match: str | None
    body: dict[str, Any]
    idempotency_key: str | None = None


class WriteOutcome(BaseModel):
    customer: CustomerView
    created: bool = False


def idempotency_config(expiry_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[idempotency_key, customer_id]",
        payload_validation_jmespath="[operation, if_match, body]",
        expires_after_seconds=expiry_seconds,
    )


class CustomerWrites:
    def __init__(self, service: ProfileService, persistence: BasePersistenceLayer, config: IdempotencyConfig) -> None:
        self._service = service
        self._config = config
        self._replayable: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="command", persistence_store=persistence, config=config, key_prefix="customer-write"
        )(self._execute)

    def register(self, context: LambdaContext) -> None:
        """Lets the store expire an in-progress record if this invocation times out."""
        self._config.register_lambda_context(context)

    def run(self, command: WriteCommand) -> WriteOutcome:
        if command.idempotency_key is None:
            return WriteOutcome.model_validate(self._execute(command=command))
        return WriteOutcome.model_validate(self._replayable(command=command))

    def _execute(self, command: WriteCommand) -> dict[str, Any]:
        expected = expected_version(command.if_match)
        if command.operation == "put":
            attributes = ProfileAttributes.model_validate(command.body)
            result = self._service.put(command.customer_id, attributes, expected)
            outcome = WriteOutcome(customer=result.customer, created=result.created)
        elif command.operation == "patch":
            outcome = WriteOutcome(customer=self._service.patch(command.customer_id, command.body, expected))
        else:
            consent = _consent_request.validate_python(command.body)
            outcome = WriteOutcome(customer=self._service.put_consent(command.customer_id, consent, expected))
        return outcome.model_dump(mode="json")
