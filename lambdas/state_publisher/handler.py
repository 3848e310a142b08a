"""Lambda entry point of the state publisher (DynamoDB stream of the customer table, ReportBatchItemFailures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from state_publisher.dependencies import current
from state_publisher.observability import logger, metrics, record_batch
from state_publisher.processor import publish_batch


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    response, report, processor = publish_batch(current(), event, context)
    record_batch(len(event.get("Records", [])), report, processor)
    return response
