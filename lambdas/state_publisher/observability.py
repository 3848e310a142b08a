"""Logger and metrics of the state publisher: customer ids and counts only.

Stream images hold names, e-mails, phones and addresses: no image, detail or
exception text is ever logged. A failed record is logged with its customer id,
record kind and the exception's type (an error code, never a value).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from omni_domain.constants import STATE_PUBLISHER_SERVICE
from state_publisher.fanout import FanOutReport
from state_publisher.processor import CustomerOrderedProcessor

# Named here, not from POWERTOOLS_SERVICE_NAME, so logs and the metric dimension stay "state-publisher".
logger = Logger(service=STATE_PUBLISHER_SERVICE)
metrics = Metrics(service=STATE_PUBLISHER_SERVICE)


def record_batch(records: int, report: FanOutReport, processor: CustomerOrderedProcessor) -> None:
    failed = processor.failed_count()
    values = {
        "RecordsReceived": records,
        "ChangesPublished": report.published,
        "ChangesReplayed": report.replayed,
        "CompletionsUnrecorded": report.unrecorded,
        "RecordsUnchanged": report.unchanged,
        "RecordsFailed": failed,
        "RecordsHeldBack": processor.held_back,
    }
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for customer_id in sorted(processor.failed_customers):
        logger.warning(
            "changes of a customer not published; retried in stream order", extra={"customer_id": customer_id}
        )
    logger.info(
        "batch fanned out",
        extra={
            "records": records,
            "published": report.published,
            "published_by_record": dict(report.by_record),
            "replayed": report.replayed,
            "unrecorded": report.unrecorded,
            "unchanged": report.unchanged,
            "failed": failed,
            "held_back": processor.held_back,
            "failure_reasons": dict(processor.failure_reasons),
        },
    )
