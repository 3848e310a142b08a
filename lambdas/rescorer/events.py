"""The events the rescorer handles: the EventBridge CustomerStateChanged its rule delivers (read into the
publisher's own detail model), and the SQS messages of its delay queue (a trailing rescore each)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from omni_domain.constants import STATE_CHANGE_SOURCE, STATE_CHANGED_DETAIL_TYPE
from rescorer.ports import TrailingRescore
from state_publisher.changes import CustomerStateChanged

SQS_EVENT_SOURCE = "aws:sqs"


class InvalidEventError(ValueError):
    """Not an event the rescorer handles; `reason` is safe to log (it never quotes the event)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fields(error: ValidationError) -> str:
    # The error text quotes the input: only the offending fields' locations are kept.
    return ", ".join(sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()}))


def state_change(event: EventBridgeEvent) -> CustomerStateChanged:
    if event.get("source") != STATE_CHANGE_SOURCE or event.get("detail-type") != STATE_CHANGED_DETAIL_TYPE:
        raise InvalidEventError("not a CustomerStateChanged event")
    try:
        return CustomerStateChanged.model_validate(event.detail)
    except KeyError:
        raise InvalidEventError("the event has no detail") from None
    except ValidationError as error:
        raise InvalidEventError(f"the detail does not match CustomerStateChanged: {_fields(error)}") from None


def is_delay_queue_batch(event: Mapping[str, Any]) -> bool:
    """An SQS batch (from the delay queue), as opposed to an EventBridge event."""
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(record, Mapping) and record.get("eventSource") == SQS_EVENT_SOURCE for record in records)
    )


class TrailingRescoreMessage(BaseModel):
    """The body of a delay-queue message: customer id, window start and change id only (no customer data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: str = Field(min_length=1, max_length=128)
    window_started_at: AwareDatetime
    change_id: str = Field(max_length=128)


def trailing_message(rescore: TrailingRescore) -> str:
    return TrailingRescoreMessage(
        customer_id=rescore.customer_id, window_started_at=rescore.window_started_at, change_id=rescore.change_id
    ).model_dump_json()


def trailing_rescore(body: str) -> TrailingRescore:
    try:
        message = TrailingRescoreMessage.model_validate_json(body)
    except ValidationError as error:
        raise InvalidEventError(f"the message does not match TrailingRescoreMessage: {_fields(error)}") from None
    return TrailingRescore(message.customer_id, message.window_started_at, message.change_id)
