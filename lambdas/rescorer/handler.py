"""Lambda entry point of the rescorer (EventBridge rule on CustomerStateChanged naming a model-relevant field).

A malformed event is counted and dropped (a retry cannot fix it); a storage
failure or a persistent write conflict raises, so the asynchronous invocation
is retried (the claim is released first, so the retry is not debounced).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from rescorer.dependencies import current
from rescorer.events import InvalidEventError, state_change
from rescorer.observability import logger, metrics, record_invalid, record_outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        change = state_change(event)
    except InvalidEventError as invalid:
        record_invalid(invalid.reason)
        return {"status": "invalid"}
    outcome = current().rescore(change)
    record_outcome(outcome, change)
    return {"status": outcome.status, "source": outcome.source, "model_version": outcome.model_version}
