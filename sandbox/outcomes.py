"""What a run left behind, read from moto at its end, in terms two runs of the same seed can compare.

A run under `--faults` is checked against a fault-free run of the same seed and
sizes: customers' live states, the triggers on the bus (distinct by `trigger_id`),
the eligibility audit log's fallback reasons and what was given up to a
dead-letter or on-failure queue. Customer ids the event processor provisions
for unknown identifiers are random, so a customer is named by a stable key:
its golden id when MDM loaded a profile for it, else the identifiers the
identity map links to it.

Only what the events decide is compared: the live state's `version` and
`updated_at` count and date the writes (a retried batch writes in more
steps), and the propensity is the rescorer's (a fallback score when the model
failed), compared as decisions instead.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
    LIVE_STATE_RECORD,
    PROFILE_RECORD,
)
from omni_domain.event_triggers import TRIGGER_TYPES
from sandbox.async_invoke import dead_letters
from sandbox.context import RunContext

VOLATILE = ("version", "updated_at", "propensity", "propensity_model", "propensity_scored_at")
TRIGGER_KINDS = frozenset(kind.detail_type for kind in TRIGGER_TYPES)
PROCESSOR = "event_processor.handler.lambda_handler"
LOADER = "mdm_loader.handler.lambda_handler"
_deserializer = TypeDeserializer()


@dataclass
class Outcome:
    states: dict[str, dict[str, Any]]  # stable customer key -> live state (what the events decide) and event ids
    triggers: Counter[tuple[str, str]]  # (stable customer key, detail type) -> distinct trigger ids on the bus
    trigger_deliveries: int  # trigger events on the bus, copies included
    fallback_reasons: Counter[str]  # the eligibility audit log: decisions by fallback reason ("" when the model scored)
    dead_letters: list[dict[str, Any]]  # the event processor's dead-letter queue (each says why)
    loader_dead_letters: list[dict[str, Any]]  # asynchronous invocations of the MDM loader given up (each says why)
    names: dict[str, str] = field(default_factory=dict)  # customer id -> stable key

    @property
    def distinct_triggers(self) -> int:
        return sum(self.triggers.values())


def _items(context: RunContext, table: str) -> list[dict[str, Any]]:
    paginator = context.platform.client("dynamodb").get_paginator("scan")
    return [
        {name: _deserializer.deserialize(value) for name, value in item.items()}
        for page in paginator.paginate(TableName=table)
        for item in page["Items"]
    ]


def _stable_names(context: RunContext, customers: list[dict[str, Any]]) -> dict[str, str]:
    platform = context.platform
    golden = {str(item[CUSTOMER_PARTITION_KEY]) for item in customers if item[CUSTOMER_SORT_KEY] == PROFILE_RECORD}
    linked: dict[str, list[str]] = defaultdict(list)
    for item in _items(context, platform.table("identity-map")):
        linked[str(item[IDENTITY_CUSTOMER_ATTRIBUTE])].append(str(item[IDENTITY_PARTITION_KEY]))
    names = {customer_id: customer_id for customer_id in golden}
    for customer_id, keys in linked.items():
        names.setdefault(customer_id, "provisional:" + min(keys))
    return names


def _state(item: dict[str, Any]) -> dict[str, Any]:
    live = {name: value for name, value in item.get("live_state", {}).items() if name not in VOLATILE}
    ledger = item.get("ledger", {})
    return {
        "live_state": live,
        "applied": sorted(ledger.get("applied", {})),
        "seen": sorted(ledger.get("seen", {})),
    }


def _log_group(context: RunContext, group: str) -> list[dict[str, Any]]:
    paginator = context.platform.client("logs").get_paginator("filter_log_events")
    return [json.loads(event["message"]) for page in paginator.paginate(logGroupName=group) for event in page["events"]]


def _loader_dead_letters(context: RunContext) -> list[dict[str, Any]]:
    if not context.platform.has_function(LOADER):
        return []
    return dead_letters(context.platform, LOADER)


def observe(context: RunContext) -> Outcome:
    platform = context.platform
    customers = _items(context, platform.table("customers"))
    names = _stable_names(context, customers)
    states = {
        names.get(str(item[CUSTOMER_PARTITION_KEY]), str(item[CUSTOMER_PARTITION_KEY])): _state(item)
        for item in customers
        if item[CUSTOMER_SORT_KEY] == LIVE_STATE_RECORD
    }
    seen: dict[str, tuple[str, str]] = {}
    deliveries = 0
    for event in _log_group(context, platform.bus_taps[platform.bus("customer-events")]):
        kind = str(event.get("detail-type"))
        if kind not in TRIGGER_KINDS:
            continue
        deliveries += 1
        detail = event.get("detail", {})
        customer = str(detail.get("customer_id"))
        seen[str(detail.get("trigger_id"))] = (names.get(customer, customer), kind)
    reasons: Counter[str] = Counter()
    if platform.has_function("eligibility.handler.lambda_handler"):
        for item in _items(context, platform.table("eligibility-decisions")):
            reasons[str(item.get("fallback_reason") or "")] += 1
    queue = platform.function_environment(PROCESSOR)["EVENT_DEAD_LETTER_QUEUE_URL"]
    return Outcome(
        states=states,
        triggers=Counter(seen.values()),
        trigger_deliveries=deliveries,
        fallback_reasons=reasons,
        dead_letters=[json.loads(body) for body in platform.peek(queue)],
        loader_dead_letters=_loader_dead_letters(context),
        names=names,
    )
