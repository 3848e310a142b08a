"""Step 6, contact centre: one call through the personalised inbound flow, with the flow simulator.

The flow of the highest stage deployed (next best action, offers, or plain
personalised inbound) runs in `connect_flows.simulate`, its `${lambda:...}`
placeholders bound to the real handlers of the functions the stacks associate
with the instance, invoked in-process with their template environments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, HoursOfOperation, Simulator
from infra.stacks.next_action_contact_centre_stack import NEXT_ACTION
from infra.stacks.offers_contact_centre_stack import OFFER_CHECK
from infra.stacks.personalised_contact_centre_stack import CALLER_LOOKUP
from sandbox.context import GoldenCustomer, RunContext

# The flows' Lambda placeholders and the handler of the function each stack associates for it.
FLOW_FUNCTIONS = {
    CALLER_LOOKUP: "connect_lookup.handler.lambda_handler",
    OFFER_CHECK: "connect_offers.handler.lambda_handler",
    NEXT_ACTION: "connect_next_action.handler.lambda_handler",
}
# The most capable flow first: the first whose functions are all deployed is simulated.
FLOWS = (
    ("personalised_inbound_next_action", (CALLER_LOOKUP, NEXT_ACTION)),
    ("personalised_inbound_offers", (CALLER_LOOKUP, OFFER_CHECK)),
    ("personalised_inbound", (CALLER_LOOKUP,)),
)


@dataclass(frozen=True)
class CallResult:
    flow: str
    caller: str  # golden id of the caller (personal data is masked: phone, name and e-mail are not reported)
    path: list[str]
    steps: list[str]
    messages: list[str]
    attributes: dict[str, str]
    queue: str | None
    end_reason: str
    functions: list[str]
    seconds: float


def masker(caller: GoldenCustomer) -> Callable[[str], str]:
    """Replaces the caller's personal data (first name, phone, e-mail) in what the report shows of the call."""
    personal = [
        (value, placeholder)
        for value, placeholder in (
            (caller.first_name, "<first name>"),
            (caller.phone, "<phone>"),
            (caller.email, "<e-mail>"),
        )
        if value
    ]

    def mask(text: str) -> str:
        for value, placeholder in personal:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", placeholder, text, flags=re.IGNORECASE)
        return text

    return mask


def _business_hour(context: RunContext, hours: HoursOfOperation) -> datetime:
    """The next moment, from now, at which the contact centre is open (10:00 local on an open day)."""
    local = context.now.astimezone(ZoneInfo(hours.time_zone))
    for days in range(8):
        candidate = (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
        if candidate > local and hours.is_open(candidate):
            return candidate
    return local


def run(context: RunContext, caller: GoldenCustomer) -> CallResult:
    say = context.progress.step("call")
    started = context.progress.elapsed
    platform = context.platform
    flow, placeholders = next(
        (name, needed)
        for name, needed in FLOWS
        if all(platform.has_function(FLOW_FUNCTIONS[placeholder]) for placeholder in needed)
    )

    def bound(handler: str) -> Any:
        return lambda event, lambda_context: platform.invoke(handler, event, context=lambda_context)

    centre = platform.config.environment.contact_centre
    hours = HoursOfOperation(centre.time_zone, {str(day): window for day, window in centre.hours.items()})
    manifest = load_manifest()
    simulator = Simulator(
        {key: manifest.load_flow(key) for key in manifest.flows},
        lambdas={
            placeholder: bound(handler)
            for placeholder, handler in FLOW_FUNCTIONS.items()
            if platform.has_function(handler)
        },
        hours={"business_hours": hours},
        queue_hours=dict.fromkeys(centre.queues, "business_hours"),
    )
    trace = simulator.run(flow, Contact(phone=str(caller.phone), at=_business_hour(context, hours)))
    mask = masker(caller)
    say(f"{flow}: {len(trace.steps)} blocks, queue {trace.queue or '-'}, {trace.end_reason}")
    return CallResult(
        flow=flow,
        caller=caller.golden_id,
        path=trace.path,
        steps=[mask(f"{step.identifier} ({step.type}) -> {step.outcome}") for step in trace.steps],
        messages=[mask(message) for message in trace.messages],
        attributes={key: mask(value) for key, value in sorted(trace.attributes.items()) if key != "phone"},
        queue=trace.queue,
        end_reason=str(trace.end_reason),
        functions=[FLOW_FUNCTIONS[placeholder] for placeholder in placeholders],
        seconds=context.progress.elapsed - started,
    )
