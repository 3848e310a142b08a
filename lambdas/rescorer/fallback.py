"""The rules score written when the model cannot answer: transparent, bounded, and monotone.

    score = clamp(0.20
                  + 0.25 * min(spend_365d, 1000) / 1000      (more spend: higher)
                  + 0.05 * min(purchases, 5)                   (more purchases: higher)
                  - 0.10 * min(complaints, 3)                  (more complaints: lower)
                  - 0.05 * min(friction_points, 4)             (more open friction: lower)
                  + 0.10 if the cart is active, 0.05 if abandoned, else 0,
                  0, 1)

Negative and unknown (NaN) inputs count as 0, so a refund-heavy customer is not
penalised twice. Every term is capped, so no single attribute dominates, and the
score stays in [0, 0.8]: a rules score never looks as confident as the model
can be. Changing any weight is a new `RULES_VERSION`, stored beside the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from eligibility.attributes import Facts

RULES_VERSION = "rules-v1"
BASE = 0.20
SPEND_WEIGHT, SPEND_CAP = 0.25, 1000.0
PURCHASE_WEIGHT, PURCHASE_CAP = 0.05, 5.0
COMPLAINT_WEIGHT, COMPLAINT_CAP = 0.10, 3.0
FRICTION_WEIGHT, FRICTION_CAP = 0.05, 4.0
CART_BONUS = {"active": 0.10, "abandoned": 0.05}


@dataclass(frozen=True, slots=True)
class RulesInputs:
    spend_365d: float = 0.0
    purchases: float = 0.0
    complaints: float = 0.0
    friction_points: float = 0.0
    cart_status: str | None = None

    @classmethod
    def from_facts(cls, facts: Facts) -> RulesInputs:
        cart = facts.get("cart_status")
        return cls(
            spend_365d=_number(facts.get("spend_365d")),
            purchases=_number(facts.get("purchases")),
            complaints=_number(facts.get("complaints")),
            friction_points=_number(facts.get("friction_points")),
            cart_status=cart if isinstance(cart, str) else None,
        )


def rules_score(inputs: RulesInputs) -> float:
    score = (
        BASE
        + SPEND_WEIGHT * _capped(inputs.spend_365d, SPEND_CAP) / SPEND_CAP
        + PURCHASE_WEIGHT * _capped(inputs.purchases, PURCHASE_CAP)
        - COMPLAINT_WEIGHT * _capped(inputs.complaints, COMPLAINT_CAP)
        - FRICTION_WEIGHT * _capped(inputs.friction_points, FRICTION_CAP)
        + CART_BONUS.get(inputs.cart_status or "", 0.0)
    )
    return round(min(1.0, max(0.0, score)), 6)


def _capped(value: float, cap: float) -> float:
    if math.isnan(value):
        return 0.0
    return min(max(value, 0.0), cap)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)
