"""The eligibility use cases: decide for a customer, store and activate rule sets.

`decide` reads the active rule set and the customer, asks the model for a score
(falling back to the rules alone when it cannot have one), evaluates the pure
rules and records the decision for audit. The audit record holds the customer
id and derived facts only: no name, contact detail, address or date of birth.

A model score comes with its top contributions (what moved it, in log-odds):
the decision carries them, says them in plain words after the rules' reasons
(`eligibility.explanations`), and the audit record keeps them with the model
version that produced the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from eligibility.attributes import PROPENSITY, Fact, customer_facts, model_features
from eligibility.explanations import explain
from eligibility.rule_sets import RuleSet, RuleSetDocument, check_rule_set
from eligibility.rules import Target, evaluate, select
from eligibility.scoring import Contribution, FallbackReason, ModelScore, Scorer, ScoringUnavailable
from omni_domain.errors import ConflictError, NotFoundError
from omni_domain.models import LiveState
from omni_domain.repositories import CustomerRepository

ScoreSource = Literal["model", "fallback"]


class NoActiveRuleSetError(ConflictError):
    """No rule set has been activated yet."""


class EligibilityDecision(BaseModel):
    """What the caller gets: the decision, why, and what it was based on."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    eligible: bool
    offers: list[str] = Field(description="eligible offer codes, best first")
    reasons: list[str]
    rule_set_version: str
    score: float | None = Field(description="the propensity score used; null when the model was unavailable")
    score_source: ScoreSource
    contributions: list[Contribution] = Field(
        default_factory=list,
        description="what moved the score most, largest first (the model's top inputs, in log-odds); "
        "empty when the rules decided alone or the model gave none",
    )
    decision_id: str
    decided_at: datetime


class DecisionRecord(BaseModel):
    """The audit record: the decision with the facts it used; kept until `expires_at` (DynamoDB TTL)."""

    model_config = ConfigDict(frozen=True)

    decision: EligibilityDecision
    product: str | None
    offer_code: str | None
    inputs: dict[str, Fact]
    fallback_reason: FallbackReason | None
    expires_at: int
    model_version: str | None = None  # the model that scored; None when the rules decided alone


@dataclass(frozen=True)
class ActiveRuleSet:
    version: str
    activated_at: datetime
    previous_version: str | None


class RuleSetStore(Protocol):
    def get(self, version: str) -> RuleSet | None: ...

    def active_version(self) -> str | None: ...

    def put(self, rule_set: RuleSet, *, now: datetime) -> bool:
        """Store a new version (True), accept the identical document again (False); ConflictError otherwise."""
        ...

    def activate(self, version: str, *, now: datetime) -> ActiveRuleSet:
        """Point ACTIVE at `version` atomically; NotFoundError when that version is not stored."""
        ...


class DecisionLog(Protocol):
    def record(self, record: DecisionRecord) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class EligibilityService:
    customers: CustomerRepository
    rule_sets: RuleSetStore
    decisions: DecisionLog
    scorer: Scorer
    retention_days: int = 90
    clock: Callable[[], datetime] = field(default=utc_now)
    # Stored versions never change, so each is read once per execution environment.
    _cache: dict[str, RuleSet] = field(default_factory=dict, repr=False)

    def decide(self, customer_id: str, target: Target, *, decision_id: str) -> DecisionRecord:
        return self.decide_with_state(customer_id, target, decision_id=decision_id)[0]

    def decide_with_state(
        self, customer_id: str, target: Target, *, decision_id: str
    ) -> tuple[DecisionRecord, LiveState]:
        """The decision, and the live state it was made on (what the next best action looks at besides)."""
        rule_set = self._active()
        # An unknown product or offer is refused before the customer is read or the model called.
        product = select(rule_set.document, target)[0].product
        view = self.customers.get(customer_id).view()
        if view is None:
            raise NotFoundError("no customer with this id", field="customer_id")
        now = self.clock()
        facts = customer_facts(view, now=now)
        scored: ModelScore | None
        fallback: FallbackReason | None
        try:
            scored, fallback = self.scorer.score(model_features(facts, product=product)), None
        except ScoringUnavailable as unavailable:
            scored, fallback = None, unavailable.reason
        score = scored.score if scored else None
        contributions = list(scored.contributions) if scored else []
        evaluation = evaluate(rule_set.document, target, {**facts, PROPENSITY: score})
        decision = EligibilityDecision(
            customer_id=customer_id,
            eligible=evaluation.eligible,
            offers=list(evaluation.offers),
            # The rules' reasons first (channels read the first one), then what moved the score.
            reasons=[*evaluation.reasons, *explain(contributions)],
            rule_set_version=rule_set.version,
            score=score,
            score_source="model" if fallback is None else "fallback",
            contributions=contributions,
            decision_id=f"{now.isoformat()}#{decision_id}",
            decided_at=now,
        )
        record = DecisionRecord(
            decision=decision,
            product=target.product,
            offer_code=target.offer_code,
            inputs=facts,
            fallback_reason=fallback,
            expires_at=int((now + timedelta(days=self.retention_days)).timestamp()),
            model_version=scored.model_version if scored else None,
        )
        self.decisions.record(record)
        return record, view.live_state

    def put_rule_set(self, version: str, document: RuleSetDocument) -> bool:
        check_rule_set(document)
        return self.rule_sets.put(RuleSet(version=version, document=document), now=self.clock())

    def get_rule_set(self, version: str) -> RuleSet:
        rule_set = self._cached(version)
        if rule_set is None:
            raise NotFoundError("no rule set with this version", field="version")
        return rule_set

    def activate(self, version: str) -> ActiveRuleSet:
        return self.rule_sets.activate(version, now=self.clock())

    def _active(self) -> RuleSet:
        version = self.rule_sets.active_version()
        rule_set = self._cached(version) if version else None
        if rule_set is None:
            raise NoActiveRuleSetError(
                "no rule set is active: store one with PUT /rule-sets/{version}, then activate it", field="rule_set"
            )
        return rule_set

    def _cached(self, version: str) -> RuleSet | None:
        if version not in self._cache:
            stored = self.rule_sets.get(version)
            if stored is None:
                return None
            self._cache[version] = stored
        return self._cache[version]
