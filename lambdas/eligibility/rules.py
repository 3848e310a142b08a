"""The rules engine: pure evaluation of a checked rule set against one customer's facts.

No I/O, no clock, no randomness: the same rule set, request and facts always
give the same evaluation. An offer is eligible when all its conditions hold; a
condition on an attribute the customer has no value for (no credit band yet, no
score because the model is down) takes its `if_missing` outcome, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from eligibility.attributes import Fact, Facts
from eligibility.rule_sets import Condition, Offer, RuleSetDocument, Scalar
from omni_domain.errors import NotFoundError

SYMBOLS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in", "not_in": "not in"}


@dataclass(frozen=True)
class Target:
    """What is asked about: every offer of a product, or one offer."""

    product: str | None = None
    offer_code: str | None = None


@dataclass(frozen=True)
class Evaluation:
    eligible: bool
    offers: tuple[str, ...]  # the codes of the eligible offers, by priority
    reasons: tuple[str, ...]


def select(document: RuleSetDocument, target: Target) -> list[Offer]:
    """The offers asked about, by priority; NotFoundError when the rule set has none."""
    if target.offer_code is not None:
        offers = [offer for offer in document.offers if offer.code == target.offer_code]
    else:
        offers = [offer for offer in document.offers if offer.product == target.product]
    if not offers:
        field = "offer_code" if target.offer_code is not None else "product"
        raise NotFoundError(f"the active rule set has no offer for this {field.replace('_', ' ')}", field=field)
    return sorted(offers, key=lambda offer: (offer.priority, offer.code))


def evaluate(document: RuleSetDocument, target: Target, facts: Facts) -> Evaluation:
    eligible: list[str] = []
    reasons: list[str] = []
    for offer in select(document, target):
        failures, notes = _check(offer, facts)
        if failures:
            reasons.extend(f"{offer.code}: {failure}" for failure in failures)
        else:
            eligible.append(offer.code)
            reasons.append(f"{offer.code}: all {len(offer.conditions)} conditions met")
        reasons.extend(f"{offer.code}: {note}" for note in notes)
    return Evaluation(eligible=bool(eligible), offers=tuple(eligible), reasons=tuple(reasons))


def _check(offer: Offer, facts: Facts) -> tuple[list[str], list[str]]:
    failures: list[str] = []
    notes: list[str] = []
    for condition in offer.conditions:
        value = facts.get(condition.attribute)
        if _missing(value):
            if condition.if_missing == "pass":
                notes.append(f"{condition.attribute} unknown, condition skipped")
            else:
                failures.append(condition.reason or f"{condition.attribute} unknown")
        elif not holds(condition, value):
            failures.append(
                condition.reason
                or f"{condition.attribute} is {_show(value)}, needs {SYMBOLS[condition.op]} {_show(condition.value)}"
            )
    return failures, notes


def holds(condition: Condition, value: Fact) -> bool:
    """Whether a known value meets the condition; a value of another type (never after checking) does not."""
    expected = condition.value
    if condition.op in ("in", "not_in"):
        members = expected if isinstance(expected, list) else [expected]
        found = any(_same(value, member) for member in members)
        return found if condition.op == "in" else not found
    if condition.op == "eq":
        return _same(value, expected)
    if condition.op == "ne":
        return not _same(value, expected)
    if not _is_number(value) or not _is_number(expected):
        return False
    left, right = float(value), float(expected)  # type: ignore[arg-type]
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[condition.op]


def _same(value: Fact, expected: object) -> bool:
    # bool is an int in Python: true must never equal 1.
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return value == expected


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _missing(value: Fact) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _show(value: Fact | Scalar | list[Scalar]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    return str(value)
