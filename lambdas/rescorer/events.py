"""The EventBridge event the rescorer's rule delivers, read into the publisher's own detail model."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from pydantic import ValidationError

from omni_domain.constants import STATE_CHANGE_SOURCE, STATE_CHANGED_DETAIL_TYPE
from state_publisher.changes import CustomerStateChanged


class InvalidEventError(ValueError):
    """Not a CustomerStateChanged event; `reason` is safe to log (it never quotes the event)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def state_change(event: EventBridgeEvent) -> CustomerStateChanged:
    if event.get("source") != STATE_CHANGE_SOURCE or event.get("detail-type") != STATE_CHANGED_DETAIL_TYPE:
        raise InvalidEventError("not a CustomerStateChanged event")
    try:
        return CustomerStateChanged.model_validate(event.detail)
    except KeyError:
        raise InvalidEventError("the event has no detail") from None
    except ValidationError as error:
        # The error text quotes the input: only the offending fields' locations are kept.
        fields = sorted({".".join(str(part) for part in problem["loc"]) for problem in error.errors()})
        raise InvalidEventError(f"the detail does not match CustomerStateChanged: {', '.join(fields)}") from None
