"""Lambda entry point of the event processor (Kinesis event source, ReportBatchItemFailures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_processor.decoding import decode_record
from event_processor.dependencies import current
from event_processor.observability import logger, metrics, record_report


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = current()
    response = process_partial_response(event=event, record_handler=decode_record, processor=processor, context=context)
    record_report(processor.report)
    return response
