"""What the personalised inbound flow stores about offers: `eligible` ("true"/"false") and `reason`.

The flow routes on `eligible` (the retention-offers queue when "true") and
keeps `reason` for the agent: the best offer's code when eligible, otherwise
why not. A contact must never fail because of this check: an unknown customer,
no active rule set, or any fault answers "false" with a short reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eligibility.decisions import DecisionRecord, EligibilityService, NoActiveRuleSetError
from eligibility.rules import Target
from omni_domain.errors import NotFoundError
from omni_domain.models import is_customer_id

MAX_REASON_LENGTH = 256  # far below Connect's 32 KB answer limit
Outcome = Literal["eligible", "not-eligible", "unknown-customer", "no-offer", "no-rules", "failed"]


@dataclass(frozen=True)
class OfferAnswer:
    attributes: dict[str, str]
    outcome: Outcome
    record: DecisionRecord | None = None


def _answer(outcome: Outcome, reason: str, record: DecisionRecord | None = None) -> OfferAnswer:
    eligible = "true" if outcome == "eligible" else "false"
    return OfferAnswer({"eligible": eligible, "reason": reason[:MAX_REASON_LENGTH]}, outcome, record)


def check_offer(service: EligibilityService, customer_id: str, *, product: str, decision_id: str) -> OfferAnswer:
    if not is_customer_id(customer_id):
        return _answer("unknown-customer", "unknown customer")
    try:
        record = service.decide(customer_id, Target(product=product), decision_id=decision_id)
    except NoActiveRuleSetError:
        return _answer("no-rules", "no active rule set")
    except NotFoundError as error:
        if error.field == "customer_id":
            return _answer("unknown-customer", "unknown customer")
        return _answer("no-offer", "no offer for this product")
    decision = record.decision
    if decision.eligible:
        return _answer("eligible", decision.offers[0], record)
    return _answer("not-eligible", decision.reasons[0] if decision.reasons else "not eligible", record)


def unavailable() -> OfferAnswer:
    """The answer when the check itself failed (storage unreachable, timeout): route as if no offer applies."""
    return _answer("failed", "offer check unavailable")
