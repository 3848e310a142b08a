"""Lambda entry point of the alert router: EventBridge "CloudWatch Alarm State Change", invoked asynchronously.

Any failure raises (malformed event, SNS or DynamoDB refusing), so Lambda's asynchronous
retries run and the event then goes to the function's dead-letter destination.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from alert_router.alarm import alarm_change
from alert_router.dependencies import current
from alert_router.events import parse_event
from alert_router.observability import logger, metrics, record
from alert_router.router import route


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str | None]:
    dependencies = current()
    change = alarm_change(parse_event(event))
    outcome = route(change, policy=dependencies.policy, ledger=dependencies.ledger, publisher=dependencies.publisher)
    record(outcome)
    return outcome.as_log()
