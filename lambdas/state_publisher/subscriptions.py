"""How channels subscribe to CustomerStateChanged: one EventBridge rule per channel, its pattern as data.

docs/channel-subscriptions.md shows these patterns (a test keeps the two equal
and checks each pattern against events the publisher really produces). A
channel's stack creates its rule from `event_pattern` on the platform bus; the
publisher never knows who listens. Every channel also takes the erasure record,
so it can drop what it cached of the customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omni_domain.constants import STATE_CHANGE_SOURCE, STATE_CHANGED_DETAIL_TYPE
from state_publisher.changes import PII_PROFILE_FIELDS


@dataclass(frozen=True, slots=True)
class ChannelSubscription:
    channel: str
    rule_name: str  # suffix of the rule's name in the channel's stack
    purpose: str
    live_state_fields: tuple[str, ...]
    profile_fields: tuple[str, ...]

    @property
    def event_pattern(self) -> dict[str, Any]:
        return {
            "source": [STATE_CHANGE_SOURCE],
            "detail-type": [STATE_CHANGED_DETAIL_TYPE],
            "detail": {
                "$or": [
                    {"record": ["live_state"], "changed": list(self.live_state_fields)},
                    {"record": ["profile"], "changed": list(self.profile_fields)},
                    {"record": ["erasure"]},
                ]
            },
        }


WEB_PERSONALISATION = ChannelSubscription(
    channel="web personalisation",
    rule_name="web-personalisation-state",
    purpose=(
        "refreshes the visitor's personalisation context at the edge: basket reminder from `cart`, content for"
        " `journey_stage`, ranked offers from `propensity`, the site language from `language`; drops"
        " personalisation when `consent` no longer grants it"
    ),
    live_state_fields=("cart", "journey_stage", "last_interaction", "propensity"),
    profile_fields=("language", "consent"),
)
MOBILE_PUSH = ChannelSubscription(
    channel="mobile push",
    rule_name="mobile-push-state",
    purpose=(
        "schedules or cancels nudges: an abandoned `cart` (cancelled when it is purchased), a follow-up after"
        " `friction_points` close; stops sending the moment `consent` or `preferred_channel` rules push out"
    ),
    live_state_fields=("cart", "friction_points"),
    profile_fields=("consent", "preferred_channel", "language"),
)
CONTACT_CENTRE = ChannelSubscription(
    channel="contact centre",
    rule_name="contact-centre-state",
    purpose=(
        "keeps the agent desktop's cached customer card current (open complaints from `friction_points`,"
        " `counters`, `journey_stage`, `propensity` for the next best action); on a personal field's name it"
        " re-reads the profile through the profile API, never from the event"
    ),
    live_state_fields=("friction_points", "counters", "journey_stage", "propensity", "last_interaction"),
    profile_fields=("preferred_channel", "language", "consent", *PII_PROFILE_FIELDS),
)
SUBSCRIPTIONS: tuple[ChannelSubscription, ...] = (WEB_PERSONALISATION, MOBILE_PUSH, CONTACT_CENTRE)
