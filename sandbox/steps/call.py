"""Step 6, contact centre: one call through the personalised inbound flow, with the flow simulator.

The flow of the highest stage deployed (next best action, offers, or plain
personalised inbound) runs in `connect_flows.simulate`, its `${lambda:...}`
placeholders bound to the real handlers of the functions the templates' contact
flows invoke (each InvokeLambdaFunction block's function ARN, resolved), invoked
in-process with their template environments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connect_flows.manifest import load_manifest
from connect_flows.simulate import Contact, HoursOfOperation, Simulator
from infra.stacks.next_action_contact_centre_stack import NextActionContactCentreStack
from infra.stacks.offers_contact_centre_stack import OffersContactCentreStack
from infra.stacks.personalised_contact_centre_stack import CALLER_LOOKUP
from sandbox.context import GoldenCustomer, RunContext
from sandbox.platform import LocalPlatform, SandboxError

# The caller lookup is invoked from the caller greeting module, the other functions from flows.
CONTACT_FLOW_TYPES = ("AWS::Connect::ContactFlow", "AWS::Connect::ContactFlowModule")
INVOKE_LAMBDA = "InvokeLambdaFunction"
PLACEHOLDER = re.compile(r"^\$\{lambda:([^}]+)\}$")
# The most capable flow first: the first whose functions are all deployed is simulated.
FLOWS = (
    ("personalised_inbound_next_action", (CALLER_LOOKUP, NextActionContactCentreStack.PLACEHOLDER)),
    ("personalised_inbound_offers", (CALLER_LOOKUP, OffersContactCentreStack.PLACEHOLDER)),
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


def flow_functions(platform: LocalPlatform, flows: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each `${lambda:...}` placeholder of the manifest's flows and modules -> the handler the templates invoke there.

    A template flow (or module) is the manifest document with the same blocks; its
    InvokeLambdaFunction block names a function (alias) ARN, resolved here to the
    function defining it.
    """
    by_name = {fn.name: fn.handler for fn in platform.functions()}
    found: dict[str, str] = {}
    resources = [resource for kind in CONTACT_FLOW_TYPES for resource in platform.resources(kind)]
    for resource in resources:
        deployed = json.loads(_content(platform, resource.stack, resource.properties.get("Content")))
        blocks = {action["Identifier"]: action for action in deployed.get("Actions", [])}
        for flow in flows.values():
            source = {action["Identifier"]: action for action in flow.get("Actions", [])}
            if set(source) != set(blocks):
                continue
            for identifier, action in source.items():
                match = PLACEHOLDER.match(str(action.get("Parameters", {}).get("LambdaFunctionARN", "")))
                if action.get("Type") != INVOKE_LAMBDA or match is None:
                    continue
                arn = str(blocks[identifier]["Parameters"]["LambdaFunctionARN"])
                handler = by_name.get(arn.split(":")[6]) if arn.count(":") >= 6 else None
                if handler is not None:
                    found[match.group(1)] = handler
    return found


def _content(platform: LocalPlatform, stack: str, content: Any) -> str:
    """A flow's Content with the references resolved that the sandbox knows (functions); others left as text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and "Fn::Join" in content:
        separator, parts = content["Fn::Join"]
        return str(separator).join(_content(platform, stack, part) for part in parts)
    try:
        return str(platform.resolver.resolve(content, stack))
    except SandboxError:  # e.g. a Connect queue's or flow's ARN: not provisioned in moto, not needed here
        return "unresolved"


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
    platform = context.platform
    manifest = load_manifest()
    flows = {key: manifest.load_flow(key) for key in manifest.flows}
    functions = flow_functions(platform, manifest.documents())
    flow, placeholders = next(
        (name, needed) for name, needed in FLOWS if all(placeholder in functions for placeholder in needed)
    )

    def bound(handler: str) -> Any:
        return lambda event, lambda_context: platform.invoke(handler, event, context=lambda_context)

    centre = platform.config.environment.contact_centre
    hours = HoursOfOperation(centre.time_zone, {str(day): window for day, window in centre.hours.items()})
    simulator = Simulator(
        flows,
        lambdas={placeholder: bound(handler) for placeholder, handler in functions.items()},
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
        functions=[functions[placeholder] for placeholder in placeholders],
    )
