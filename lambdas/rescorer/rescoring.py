"""The rescoring use case: which changes matter, debouncing, scoring with the rules fallback, the write-back.

A change rescores the customer when it names a model-relevant field
(`state_publisher.changes.MODEL_RELEVANT_FIELDS`, the list the EventBridge rule
matches too, so a rule widened by mistake still scores nothing extra). The
rescore reads the customer as it is now, not as the event describes it, so
events arriving out of order still score the latest state.

Debouncing is leading and trailing. The first relevant change scores at once
and claims the customer for the window (leading edge). A change inside the
window is not scored then, but the first one marks the claim `pending` and
sends one delayed message (`DelayQueue`) due when the window ends; the message
re-reads the customer as it is then and rescores, claiming a fresh window
(trailing edge). So a customer is still scored at most once per window, and a
burst (a cart going active, then abandoned) ends on the score of its last state. SQS
delays a message by at most 15 minutes (`MAX_DELAY_SECONDS`): a message that
arrives before its window ends (a longer window) is sent again for the rest of
it. A message that finds a newer window claimed is dropped: that window's
leading rescore read the state after every change of the older one (and has its
own trailing message if changes followed).

A claim is released only when the rescore raises, so the retry is not
debounced by a rescore that never happened. A skip keeps it: a provisional
customer without a STATE item or a profile costs one read per window, not one
per event. An erased customer's claim is released all the same, so the debounce
table keeps no trace of them (their changes are no longer model-relevant).

The scores of all configured products come from one endpoint request and are
written together with the model version that produced them: the live state's
`propensity` map and `propensity_model` always describe the same model. When
the model cannot answer, the rules score (`fallback.rules_score`) is written
under the rules version instead. The write is conditional on the version read;
a stale version is read and written once more, then the conflict is raised so
the invocation is retried. A customer without a STATE item, or erased, is left
as it is: nothing here creates a STATE item.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from eligibility.attributes import Facts, customer_facts, model_features
from eligibility.scoring import FallbackReason, ScoringUnavailable
from rescorer.fallback import RULES_VERSION, RulesInputs, rules_score
from rescorer.ports import (
    CustomerReader,
    Debouncer,
    DelayQueue,
    PropensityScorer,
    PropensityWriter,
    StaleStateError,
    TrailingRescore,
)
from state_publisher.changes import MODEL_RELEVANT_FIELDS, CustomerStateChanged

Status = Literal["rescored", "debounced", "skipped"]
ScoreSource = Literal["model", "fallback"]
SkipReason = Literal["irrelevant", "erased", "no-state", "no-profile", "superseded"]
Trigger = Literal["change", "trailing"]
MAX_WRITE_ATTEMPTS = 2  # the first write and one retry after a stale version
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds: a longer window is waited out in several messages


class RescoreConflictError(Exception):
    """The STATE item kept changing under the rescore: the invocation is retried."""


@dataclass(frozen=True, slots=True)
class RescoreOutcome:
    status: Status
    source: ScoreSource | None = None
    model_version: str | None = None
    fallback_reason: FallbackReason | None = None
    skip_reason: SkipReason | None = None
    stale_retries: int = 0
    # Set when this outcome scheduled the trailing rescore: the message's delay.
    trailing_delay_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    scores: dict[str, float]
    model_version: str
    source: ScoreSource
    fallback_reason: FallbackReason | None


def is_model_relevant(change: CustomerStateChanged) -> bool:
    """A change the model can see: live state or profile created or updated, naming a model-relevant field."""
    if change.record == "erasure" or change.change == "removed":
        return False
    return not set(change.changed).isdisjoint(MODEL_RELEVANT_FIELDS)


def utc_now() -> datetime:
    return datetime.now(UTC)


def trailing_delay_seconds(remaining: timedelta) -> int:
    """The delay of a trailing rescore's message: the rest of the window, whole seconds up, within SQS's limits."""
    return min(MAX_DELAY_SECONDS, max(0, math.ceil(remaining.total_seconds())))


@dataclass
class Rescorer:
    customers: CustomerReader
    debouncer: Debouncer
    scorer: PropensityScorer
    writer: PropensityWriter
    products: tuple[str, ...]
    debounce_window: timedelta
    delays: DelayQueue
    clock: Callable[[], datetime] = field(default=utc_now)

    def rescore(self, change: CustomerStateChanged) -> RescoreOutcome:
        """A CustomerStateChanged: rescore now (leading edge), or schedule the window's trailing rescore."""
        if not is_model_relevant(change):
            return RescoreOutcome("skipped", skip_reason="irrelevant")
        customer_id = change.customer_id
        now = self.clock()
        if self.debouncer.claim(customer_id, now=now, window=self.debounce_window):
            return self._claimed(customer_id, now)
        return self._schedule_trailing(customer_id, change.change_id, now)

    def rescore_trailing(self, trailing: TrailingRescore) -> RescoreOutcome:
        """The delayed message of a debounced change: rescore the state as it is now, claiming a fresh window."""
        now = self.clock()
        if self.debouncer.claim(trailing.customer_id, now=now, window=self.debounce_window):
            return self._claimed(trailing.customer_id, now)
        remaining = trailing.window_started_at + self.debounce_window - now
        if remaining > timedelta(0):  # early: a window longer than SQS can delay (or clocks that differ)
            return self._send(trailing, remaining)
        return RescoreOutcome("skipped", skip_reason="superseded")

    def _claimed(self, customer_id: str, now: datetime) -> RescoreOutcome:
        try:
            outcome = self._rescore(customer_id, now)
        except BaseException:
            self.debouncer.release(customer_id, claimed_at=now)
            raise
        if outcome.skip_reason == "erased":
            self.debouncer.release(customer_id, claimed_at=now)
        return outcome

    def _schedule_trailing(self, customer_id: str, change_id: str, now: datetime) -> RescoreOutcome:
        window_started_at = self.debouncer.mark_pending(customer_id)
        if window_started_at is None:  # this window's trailing rescore is already scheduled
            return RescoreOutcome("debounced")
        trailing = TrailingRescore(customer_id, window_started_at, change_id)
        try:
            return self._send(trailing, window_started_at + self.debounce_window - now)
        except BaseException:
            # Unmarked, the retry of this change (or the next one in the window) schedules it again.
            self.debouncer.unmark_pending(customer_id, claimed_at=window_started_at)
            raise

    def _send(self, trailing: TrailingRescore, remaining: timedelta) -> RescoreOutcome:
        delay = trailing_delay_seconds(remaining)
        self.delays.send(trailing, delay_seconds=delay)
        return RescoreOutcome("debounced", trailing_delay_seconds=delay)

    def score(self, facts: Facts) -> Scored:
        rows = [model_features(facts, product=product) for product in self.products]
        try:
            answer = self.scorer.score(rows)
            if len(answer.scores) != len(rows):
                raise ScoringUnavailable("bad-response")
        except ScoringUnavailable as unavailable:
            fallback = rules_score(RulesInputs.from_facts(facts))
            return Scored(dict.fromkeys(self.products, fallback), RULES_VERSION, "fallback", unavailable.reason)
        return Scored(dict(zip(self.products, answer.scores, strict=True)), answer.model_version, "model", None)

    def _rescore(self, customer_id: str, now: datetime) -> RescoreOutcome:
        last: tuple[Facts, Scored] | None = None
        for attempt in range(MAX_WRITE_ATTEMPTS):
            stored = self.customers.get(customer_id)
            if stored.erasure is not None:
                return RescoreOutcome("skipped", skip_reason="erased", stale_retries=attempt)
            if stored.live_state is None:
                return RescoreOutcome("skipped", skip_reason="no-state", stale_retries=attempt)
            view = stored.view()
            if view is None:
                return RescoreOutcome("skipped", skip_reason="no-profile", stale_retries=attempt)
            facts = customer_facts(view, now=now)
            # The concurrent write may not have touched what the model sees: then its answer still holds.
            scored = last[1] if last is not None and last[0] == facts else self.score(facts)
            last = (facts, scored)
            try:
                self.writer.write(
                    customer_id,
                    scored.scores,
                    model_version=scored.model_version,
                    scored_at=now,
                    expected_version=stored.live_state.version,
                )
            except StaleStateError:
                continue
            return RescoreOutcome(
                "rescored",
                source=scored.source,
                model_version=scored.model_version,
                fallback_reason=scored.fallback_reason,
                stale_retries=attempt,
            )
        raise RescoreConflictError("the live state changed during both write attempts")
