"""In-memory adapters of the rule-set store and the decision log (tests, benchmarks, sandbox)."""

from __future__ import annotations

import threading
from datetime import datetime

from eligibility.decisions import ActiveRuleSet, DecisionRecord
from eligibility.rule_sets import RuleSet
from omni_domain.errors import ConflictError, NotFoundError


class InMemoryRuleSetStore:
    def __init__(self) -> None:
        self.rule_sets: dict[str, RuleSet] = {}
        self.active: ActiveRuleSet | None = None
        self._lock = threading.Lock()

    def get(self, version: str) -> RuleSet | None:
        return self.rule_sets.get(version)

    def active_version(self) -> str | None:
        return self.active.version if self.active else None

    def put(self, rule_set: RuleSet, *, now: datetime) -> bool:
        with self._lock:
            stored = self.rule_sets.get(rule_set.version)
            if stored is None:
                self.rule_sets[rule_set.version] = rule_set
                return True
            if stored.document == rule_set.document:
                return False
            raise ConflictError(
                "this version is stored with other rules; versions never change: use a new version", field="version"
            )

    def activate(self, version: str, *, now: datetime) -> ActiveRuleSet:
        with self._lock:
            if version not in self.rule_sets:
                raise NotFoundError("no rule set with this version: store it first", field="version")
            self.active = ActiveRuleSet(version=version, activated_at=now, previous_version=self.active_version())
            return self.active


class InMemoryDecisionLog:
    def __init__(self) -> None:
        self.records: list[DecisionRecord] = []

    def record(self, record: DecisionRecord) -> None:
        self.records.append(record)
