"""Logger and metrics of the event processor.

Logs carry counts and reasons only: never an event, an identifier or a payload
(they hold e-mails, phones and device ids). Metrics are EMF: batch totals in
the function's metric set, and `EventsApplied` per `event_type` and `channel`
(11 x 7 combinations at most, so the dimension cardinality stays bounded) and
`Revenue` (purchase amounts) per `channel` and `currency`, for the anomaly alerts.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from event_processor.batch import BatchReport
from omni_domain.constants import ENV_METRICS_NAMESPACE, ENV_SERVICE_NAME, EVENT_PROCESSOR_SERVICE

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, EVENT_PROCESSOR_SERVICE))
metrics = Metrics()

_TOTALS = {
    "RecordsReceived": "records",
    "RecordsDeadLettered": "dead_lettered",
    "DuplicateEvents": "duplicates",
    "ErasedCustomerEventsSkipped": "erased_skipped",
    "ProvisionalCustomerIds": "provisional_ids",
    "StateWrites": "state_writes",
    "StateWriteConflicts": "write_conflicts",
    "ForeignCurrencyPurchases": "foreign_currency",
}


def record_report(report: BatchReport) -> None:
    for name, attribute in _TOTALS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(report, attribute))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(report.failed))
    for detail_type, count in sorted(report.triggers.items()):
        metrics.add_metric(name=f"Triggers{detail_type}", unit=MetricUnit.Count, value=count)
    namespace = os.environ.get(ENV_METRICS_NAMESPACE)
    for (event_type, channel), count in sorted(report.applied.items()):
        with single_metric(name="EventsApplied", unit=MetricUnit.Count, value=count, namespace=namespace) as metric:
            metric.add_dimension(name="event_type", value=event_type)
            metric.add_dimension(name="channel", value=channel)
    for (channel, currency), amount in sorted(report.revenue.items()):
        with single_metric(name="Revenue", unit=MetricUnit.NoUnit, value=float(amount), namespace=namespace) as metric:
            metric.add_dimension(name="channel", value=channel)
            metric.add_dimension(name="currency", value=currency)
    logger.info(
        "batch processed",
        extra={
            "records": report.records,
            "customers": report.customers,
            "failed": len(report.failed),
            "dead_lettered": report.dead_lettered,
            "invalid_reasons": dict(report.invalid_reasons),
            "duplicates": report.duplicates,
            "erased_skipped": report.erased_skipped,
            "state_writes": report.state_writes,
            "triggers": dict(report.triggers),
        },
    )
