"""What the stage-5 inbound flow stores about the next best action, as Connect's flat map of strings.

`next_action` (a catalogue name, e.g. `make_offer`), `next_action_script` (the
sentence the agent whisper reads out: no personal data), `next_action_offer`
(the offer code for `make_offer`, otherwise empty) and `eligible` ("true" or
"false": the flow routes eligible callers to the retention offers queue, as at
stage 4, from the same single decision). A contact must never fail because of
this lookup: an unknown customer, no active rule set, or any fault answers
`no_action` with a neutral script and "false".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from eligibility.advice import Advice, advise
from eligibility.decisions import EligibilityService, NoActiveRuleSetError
from omni_domain.errors import NotFoundError
from omni_domain.models import Channel, is_customer_id

CHANNEL: Channel = "contact_centre"  # marketing actions need marketing consent for calls
FALLBACK_SCRIPT = "No recommendation available: handle the request as usual."
Outcome = Literal["advised", "unknown-customer", "no-offer", "no-rules", "failed"]


@dataclass(frozen=True)
class NextActionAnswer:
    attributes: dict[str, str]
    outcome: Outcome
    advice: Advice | None = None


def _fallback(outcome: Outcome) -> NextActionAnswer:
    attributes = {"next_action": "no_action", "next_action_script": FALLBACK_SCRIPT, "next_action_offer": ""}
    return NextActionAnswer({**attributes, "eligible": "false"}, outcome)


def next_action_answer(
    service: EligibilityService, customer_id: str, *, product: str, decision_id: str
) -> NextActionAnswer:
    if not is_customer_id(customer_id):
        return _fallback("unknown-customer")
    try:
        advice = advise(service, customer_id, product=product, decision_id=decision_id, channel=CHANNEL)
    except NoActiveRuleSetError:
        return _fallback("no-rules")
    except NotFoundError as error:
        return _fallback("unknown-customer" if error.field == "customer_id" else "no-offer")
    action = advice.action
    attributes = {
        "next_action": action.action,
        "next_action_script": action.script,  # already bounded by NextBestAction.script's max_length
        "next_action_offer": action.offer_code or "",
        "eligible": "true" if advice.record.decision.eligible else "false",
    }
    return NextActionAnswer(attributes, "advised", advice)


def unavailable() -> NextActionAnswer:
    """The answer when the lookup itself failed (storage unreachable, timeout)."""
    return _fallback("failed")
