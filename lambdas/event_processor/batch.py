"""The use case: apply one Kinesis batch of decoded records, coalesced per customer.

0. Clock: an event dated more than the policy's `future_tolerance` after the
   record's arrival on the stream (or the batch's clock, if earlier) is
   dead-lettered with the reason: the event is wrong, and is kept for
   inspection rather than applied, clamped or retried. The arrival time is the
   same on every delivery of a record, so a redelivered record gets the same
   verdict however late it comes back.
1. Identities: every identity map key of the batch is resolved at once; an
   unknown key gets a provisional customer id through a conditional put, so two
   concurrent batches agree on it (the loser adopts the winner's id).
2. State: all STATE (and ERASURE) records are read at once; each customer's
   events are folded into its ledger (`rules`), erased customers are skipped.
3. Triggers are published before the state is written: a failure after
   publishing repeats a trigger on the retry (consumers de-duplicate by
   `trigger_id`) instead of losing it.
4. One conditional write per changed customer. A version conflict (another
   batch wrote meanwhile) re-reads that customer and re-applies: at most
   `MAX_WRITE_ATTEMPTS` writes.
5. Invalid records go to the dead-letter queue, never back to the shard.

Records that could not be applied (their customer's write or triggers failed,
or their dead letter was not accepted) are returned as failures, for Lambda to
retry: applying them again is harmless (see `ledger`).

Every record of a batch has exactly one outcome in the report: applied,
duplicate (an event id already applied, in this batch or an earlier one),
dead-lettered, skipped (its customer was erased) or failed (`BatchReport.accounted`).
"""

from __future__ import annotations

import base64
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from event_processor.policy import Policy
from event_processor.ports import (
    DeadLetter,
    DeadLetterSink,
    ErasedCustomerError,
    IdentityResolver,
    StaleVersionError,
    StateStore,
    StoredState,
    StoreUnavailableError,
    TriggerPublisher,
)
from event_processor.rules import Outcome, apply_events, live_state
from omni_domain.customer_events import CustomerEvent, InvalidEventError, check_not_future, event_json
from omni_domain.event_triggers import Trigger

MAX_WRITE_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    sequence_number: str
    event: CustomerEvent
    # Where the record came from: what its dead letter keeps should the batch refuse the event.
    data: str | None = None  # the record's data as received (base64); None: the event's own JSON
    partition_key: str = ""
    event_source_arn: str = ""
    arrived_at: float | None = None  # Kinesis' approximate arrival timestamp (epoch seconds); None: unknown

    def received_at(self, now: datetime) -> datetime:
        """The moment the event is judged against: its arrival on the stream, or the clock if earlier."""
        if self.arrived_at is None:
            return now
        return min(now, datetime.fromtimestamp(self.arrived_at, UTC))

    def dead_letter(self, error: InvalidEventError) -> DeadLetter:
        data = self.data if self.data is not None else base64.b64encode(event_json(self.event)).decode()
        return DeadLetter(
            sequence_number=self.sequence_number,
            reason=error.reason,
            errors=tuple(error.errors),
            data=data,
            partition_key=self.partition_key,
            event_source_arn=self.event_source_arn,
            arrived_at=self.arrived_at or 0.0,
        )


@dataclass
class BatchReport:
    """What happened to a batch; the handler turns it into metrics."""

    records: int = 0  # received
    failed: set[str] = field(default_factory=set)  # sequence numbers for Lambda to retry
    applied: Counter[tuple[str, str]] = field(default_factory=Counter)  # (event_type, channel) -> events
    revenue: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (channel, currency) -> purchase amounts
    duplicates: int = 0
    dead_lettered: int = 0
    invalid_reasons: Counter[str] = field(default_factory=Counter)
    customers: int = 0
    erased_skipped: int = 0
    provisional_ids: int = 0
    state_writes: int = 0
    write_conflicts: int = 0
    triggers: Counter[str] = field(default_factory=Counter)
    foreign_currency: int = 0

    @property
    def applied_total(self) -> int:
        return sum(self.applied.values())

    @property
    def accounted(self) -> int:
        """The records with an outcome; always `records`: none is lost, none is counted twice."""
        return self.applied_total + self.duplicates + self.dead_lettered + self.erased_skipped + len(self.failed)


@dataclass(slots=True)
class _Pending:
    """A customer's records and the state they fold into (replaced when a conflict forces a re-read)."""

    customer_id: str
    records: list[DecodedRecord]
    state: StoredState
    outcome: Outcome


def new_customer_id() -> str:
    return f"gc-{secrets.token_hex(10)}"


class EventBatch:
    def __init__(
        self,
        *,
        identities: IdentityResolver,
        states: StateStore,
        publisher: TriggerPublisher,
        dead_letters: DeadLetterSink,
        policy: Policy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = new_customer_id,
    ) -> None:
        self.identities = identities
        self.states = states
        self.publisher = publisher
        self.dead_letters = dead_letters
        self.policy = policy
        self.clock = clock
        self.new_id = new_id

    def apply(self, decoded: Sequence[DecodedRecord], rejected: Sequence[DeadLetter]) -> BatchReport:
        report = BatchReport(records=len(decoded) + len(rejected))
        now = self.clock()
        decoded, too_early = self._on_time(decoded, now)
        by_customer = self._group(decoded, report, now)
        report.customers = len(by_customer)
        stored = self.states.load_many(list(by_customer))
        pending: list[_Pending] = []
        for customer_id, records in by_customer.items():
            state = stored[customer_id]
            if state.erased:
                report.erased_skipped += len(records)
                continue
            pending.append(_Pending(customer_id, records, state, self._fold(customer_id, state, records, now)))
        published = self._publish([trigger for item in pending for trigger in item.outcome.triggers])
        for item in pending:
            if not self._store(item, published, now, report):
                report.failed.update(record.sequence_number for record in item.records)
        self._dead_letter([*rejected, *too_early], report)
        return report

    def _on_time(self, decoded: Sequence[DecodedRecord], now: datetime) -> tuple[list[DecodedRecord], list[DeadLetter]]:
        """The records to apply, and the dead letters of those dated too far after their arrival."""
        on_time: list[DecodedRecord] = []
        too_early: list[DeadLetter] = []
        for record in decoded:
            try:
                check_not_future(record.event, now=record.received_at(now), tolerance=self.policy.future_tolerance)
            except InvalidEventError as error:
                too_early.append(record.dead_letter(error))
            else:
                on_time.append(record)
        return on_time, too_early

    def _group(
        self, decoded: Sequence[DecodedRecord], report: BatchReport, now: datetime
    ) -> dict[str, list[DecodedRecord]]:
        keys = sorted({key for record in decoded if (key := record.event.identity.map_key)})
        resolved = self.identities.resolve_many(keys)
        for key in keys:
            if key not in resolved:
                resolved[key] = self.identities.provision(key, self.new_id(), at=now)
                report.provisional_ids += 1
        by_customer: dict[str, list[DecodedRecord]] = defaultdict(list)
        for record in decoded:
            identity = record.event.identity
            customer_id = resolved[identity.map_key] if identity.map_key else str(identity.customer_id)
            by_customer[customer_id].append(record)
        return by_customer

    def _fold(self, customer_id: str, state: StoredState, records: list[DecodedRecord], now: datetime) -> Outcome:
        return apply_events(
            customer_id, state.ledger, (record.event for record in records), policy=self.policy, now=now
        )

    def _publish(self, triggers: Sequence[Trigger]) -> set[str]:
        """Ids of the triggers on the bus (those the publisher did not reject)."""
        if not triggers:
            return set()
        rejected = self.publisher.publish(triggers)
        return {trigger.trigger_id for trigger in triggers} - rejected

    def _store(self, item: _Pending, published: set[str], now: datetime, report: BatchReport) -> bool:
        """Write the customer's new state, re-reading on conflict; False when its records must be retried."""
        for attempt in range(MAX_WRITE_ATTEMPTS):
            if attempt:
                report.write_conflicts += 1
                item.state = self.states.load_many([item.customer_id])[item.customer_id]
                if item.state.erased:
                    report.erased_skipped += len(item.records)
                    return True
                item.outcome = self._fold(item.customer_id, item.state, item.records, now)
                published |= self._publish([t for t in item.outcome.triggers if t.trigger_id not in published])
            result = self._write_once(item, published, now, report)
            if result != "conflict":
                return result == "done"
        return False

    def _write_once(
        self, item: _Pending, published: set[str], now: datetime, report: BatchReport
    ) -> Literal["done", "conflict", "failed"]:
        outcome, state = item.outcome, item.state
        if any(trigger.trigger_id not in published for trigger in outcome.triggers):
            return "failed"  # not written: the retry recomputes and publishes them again
        if outcome.changed:
            version = state.version + 1
            projection = live_state(
                outcome.ledger, previous=state.live_state, version=version, policy=self.policy, now=now
            )
            report.state_writes += 1
            try:
                self.states.write(item.customer_id, outcome.ledger, projection, expected_version=state.version)
            except StaleVersionError:
                return "conflict"
            except ErasedCustomerError:
                report.erased_skipped += len(item.records)
                return "done"
            except StoreUnavailableError:
                return "failed"
        self._count(outcome, report)
        return "done"

    @staticmethod
    def _count(outcome: Outcome, report: BatchReport) -> None:
        report.applied.update(outcome.applied_by)
        for key, amount in outcome.revenue_by.items():
            report.revenue[key] = report.revenue.get(key, Decimal(0)) + amount
        report.duplicates += outcome.duplicates
        report.foreign_currency += outcome.foreign_currency
        report.triggers.update(trigger.detail_type for trigger in outcome.triggers)

    def _dead_letter(self, rejected: Sequence[DeadLetter], report: BatchReport) -> None:
        if not rejected:
            return
        refused = self.dead_letters.send(rejected)
        report.failed |= refused
        report.dead_lettered = len(rejected) - len(refused)
        report.invalid_reasons.update(letter.reason for letter in rejected)
