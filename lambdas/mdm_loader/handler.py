"""Lambda entry point of the MDM loader: EventBridge (S3 "Object Created" on a run manifest), invoked asynchronously.

Any failure raises, so Lambda's asynchronous retries run and the event then goes
to the function's dead-letter destination; loading a run again is harmless.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from mdm_loader.dependencies import current
from mdm_loader.events import manifest_key
from mdm_loader.loader import load_run
from mdm_loader.observability import logger, metrics, publish


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=S3EventBridgeNotificationEvent)
def lambda_handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, object]:
    dependencies = current()
    summary = load_run(
        dependencies.reader, dependencies.store, manifest_key(event, dependencies.settings.curated_bucket)
    )
    publish(summary)
    return summary.as_log()
