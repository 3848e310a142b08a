"""The next-best-action use case: decide (audited, as any decision), then apply the pure policy.

Shared by the API route and the contact centre's next-action lookup, so every
channel gets the same recommendation from the same decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from eligibility.decisions import DecisionRecord, EligibilityService
from eligibility.next_action import NextBestAction, next_best_action
from eligibility.rules import Target
from omni_domain.models import Channel


@dataclass(frozen=True)
class Advice:
    record: DecisionRecord  # the audited decision (for metrics)
    action: NextBestAction


def advise(
    service: EligibilityService, customer_id: str, *, product: str, decision_id: str, channel: Channel | None = None
) -> Advice:
    """NotFoundError for an unknown customer or product, NoActiveRuleSetError without rules (as `decide`)."""
    record, state = service.decide_with_state(customer_id, Target(product=product), decision_id=decision_id)
    action = next_best_action(state=state, facts=record.inputs, decision=record.decision, channel=channel)
    return Advice(record, action)
