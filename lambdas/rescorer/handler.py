"""Lambda entry point of the rescorer: the EventBridge rule on CustomerStateChanged naming a model-relevant
field, and the delay queue's SQS batches (trailing rescores, ReportBatchItemFailures), told apart by shape.

A malformed event or message is counted and dropped (a retry cannot fix it); a
storage failure or a persistent write conflict raises, so the asynchronous
invocation (or the SQS message alone) is retried; the claim is released first,
so the retry is not debounced.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from rescorer.dependencies import current
from rescorer.events import InvalidEventError, is_delay_queue_batch, state_change, trailing_rescore
from rescorer.observability import logger, metrics, record_invalid, record_outcome
from rescorer.rescoring import RescoreOutcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_delay_queue_batch(event):
        # Always the partial-failure list: a whole failed batch is retried the same, without raising.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(
            process_partial_response(event=event, record_handler=handle_delayed, processor=processor, context=context)
        )
    return handle_change(EventBridgeEvent(event))


def handle_change(event: EventBridgeEvent) -> dict[str, Any]:
    try:
        change = state_change(event)
    except InvalidEventError as invalid:
        record_invalid(invalid.reason)
        return {"status": "invalid"}
    outcome = current().rescore(change)
    record_outcome(outcome, customer_id=change.customer_id, change_id=change.change_id, trigger="change")
    return _answer(outcome)


def handle_delayed(record: SQSRecord) -> None:
    try:
        trailing = trailing_rescore(record.body)
    except InvalidEventError as invalid:
        record_invalid(invalid.reason)
        return
    outcome = current().rescore_trailing(trailing)
    record_outcome(outcome, customer_id=trailing.customer_id, change_id=trailing.change_id, trigger="trailing")


def _answer(outcome: RescoreOutcome) -> dict[str, Any]:
    """What the invoker sees (the sandbox prints it): the outcome, and why when nothing was scored by the model."""
    return {
        "status": outcome.status,
        "source": outcome.source,
        "model_version": outcome.model_version,
        "reason": outcome.skip_reason or outcome.fallback_reason,
    }
