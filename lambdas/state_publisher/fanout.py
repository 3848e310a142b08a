"""The use case: one stream record -> at most one CustomerStateChanged, published once per stream record.

Lambda delivers a stream record again whenever its batch is retried (after a
failure, every record from the first failed one on), so publishing is wrapped
in Powertools' `idempotent_function` keyed on the record's eventID: a record
already published answers from the idempotency store and is not put on the bus
again. A failed publish releases its claim, so the retry publishes it. The
idempotency record is written only for changes that publish: a record that
changes no published field costs no write.

A change can be published and its completion still fail to be recorded (the
idempotency table throttles the write). Powertools then raises and leaves the
record's claim in progress until this invocation's timeout, and every delivery
of the record until then would meet "already in progress" and fail: Lambda's
retries, which do not wait, would give the batch up although nothing is
missing. So the record counts as published, the completion is written once
more at once, and, should that fail too, this execution environment remembers
the change: a later delivery to it answers as a replay. A delivery to another
environment before the claim expires fails and is retried; after it, the change
is published again under the same `change_id`, the consumers' de-duplication key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from omni_domain.constants import STATE_PUBLISHER_SERVICE
from state_publisher.changes import CustomerStateChanged, state_change
from state_publisher.decoding import decode_change
from state_publisher.ports import ChangePublisher

Outcome = Literal["published", "replayed", "unchanged"]
MAX_UNRECORDED = 10_000  # changes remembered as published without a recorded completion, per environment


def idempotency_config(expiry_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath="change_id", expires_after_seconds=expiry_seconds)


@dataclass
class FanOutReport:
    """What one batch did; the handler turns it into metrics and one log line."""

    published: int = 0
    replayed: int = 0  # already published by an earlier delivery of the same record
    unrecorded: int = 0  # published, but the completion could not be written (see the module's docstring)
    unchanged: int = 0  # no published field changed, or a record kind that is not published
    by_record: dict[str, int] = field(default_factory=dict)  # published events per record kind


class StateFanOut:
    def __init__(
        self, publisher: ChangePublisher, persistence: BasePersistenceLayer, config: IdempotencyConfig
    ) -> None:
        self._publisher = publisher
        self._persistence = persistence
        self._config = config
        # change_id -> the publication's result, for changes published here whose completion is not recorded
        self._unrecorded: dict[str, dict[str, Any]] = {}
        self._result: dict[str, Any] = {}
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
        try:
            self._publish_once(change=change)
        except IdempotencyPersistenceLayerError:
            if not self._executed:
                raise  # nothing was published: the record fails and is retried
            if not self._complete(change):
                self.report.unrecorded += 1
        except IdempotencyAlreadyInProgressError:
            if change.change_id not in self._unrecorded:
                raise  # claimed by a delivery still running, or one that died: retried until the claim expires
            self._complete(change)
            self.report.replayed += 1
            return "replayed"
        if not self._executed:
            self.report.replayed += 1
            return "replayed"
        self.report.published += 1
        self.report.by_record[change.record] = self.report.by_record.get(change.record, 0) + 1
        return "published"

    def _publish(self, change: CustomerStateChanged) -> dict[str, Any]:
        event_id = self._publisher.publish(change)
        self._executed = True
        self._result = {"event_id": event_id}
        return self._result

    def _complete(self, change: CustomerStateChanged) -> bool:
        """Record a published change's completion that Powertools could not write (see the module's docstring)."""
        result = self._unrecorded.get(change.change_id, self._result)
        try:
            # The payload as Powertools keys it (its `_prepare_data`): the model's JSON-mode dict.
            self._persistence.save_success(data=change.model_dump(mode="json"), result=result)
        except Exception:  # noqa: BLE001 - any failure of the store: the change stays remembered here
            self._unrecorded[change.change_id] = result
            while len(self._unrecorded) > MAX_UNRECORDED:  # bounded: the oldest claims have long expired
                del self._unrecorded[next(iter(self._unrecorded))]
            return False
        self._unrecorded.pop(change.change_id, None)
        return True
