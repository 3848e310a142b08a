"""The use case: one stream record -> at most one CustomerStateChanged, published once per stream record.

Lambda delivers a stream record again whenever its batch is retried (after a
failure, every record from the first failed one on), so publishing is wrapped
in Powertools' `idempotent_function` keyed on the record's eventID: a record
already published answers from the idempotency store and is not put on the bus
again. A failed publish releases its claim, so the retry publishes it. The
idempotency record is written only for changes that publish: a record that
changes no published field costs no write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from omni_domain.constants import STATE_PUBLISHER_SERVICE
from state_publisher.changes import CustomerStateChanged, state_change
from state_publisher.decoding import decode_change
from state_publisher.ports import ChangePublisher

Outcome = Literal["published", "replayed", "unchanged"]


def idempotency_config(expiry_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath="change_id", expires_after_seconds=expiry_seconds)


@dataclass
class FanOutReport:
    """What one batch did; the handler turns it into metrics and one log line."""

    published: int = 0
    replayed: int = 0  # already published by an earlier delivery of the same record
    unchanged: int = 0  # no published field changed, or a record kind that is not published
    by_record: dict[str, int] = field(default_factory=dict)  # published events per record kind


class StateFanOut:
    def __init__(
        self, publisher: ChangePublisher, persistence: BasePersistenceLayer, config: IdempotencyConfig
    ) -> None:
        self._publisher = publisher
        self._config = config
        self._publish_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="change",
            persistence_store=persistence,
            config=config,
            key_prefix=STATE_PUBLISHER_SERVICE,
        )(self._publish)
        self.report = FanOutReport()
        self._executed = False

    def start_batch(self, context: LambdaContext | None) -> FanOutReport:
        """A fresh report; with the context, an in-progress claim expires when this invocation would time out."""
        if context is not None:
            self._config.register_lambda_context(context)
        self.report = FanOutReport()
        return self.report

    def handle(self, record: DynamoDBRecord) -> Outcome:
        """Powertools' record handler: raises when the change could not be published (the record is retried)."""
        change = state_change(decode_change(record))
        if change is None:
            self.report.unchanged += 1
            return "unchanged"
        # `_publish` sets it when it really runs; a stored completion answers without calling it.
        self._executed = False
        self._publish_once(change=change)
        if not self._executed:
            self.report.replayed += 1
            return "replayed"
        self.report.published += 1
        self.report.by_record[change.record] = self.report.by_record.get(change.record, 0) + 1
        return "published"

    def _publish(self, change: CustomerStateChanged) -> dict[str, Any]:
        event_id = self._publisher.publish(change)
        self._executed = True
        return {"event_id": event_id}
