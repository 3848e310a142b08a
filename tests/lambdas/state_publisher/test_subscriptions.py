"""The channels' rules: the documented patterns are the data, and each matches what the publisher really emits.

moto does not implement TestEventPattern, so each pattern is a rule on a moto bus
targeting its own queue; the publisher's events go through the bus and the
test reads which queues received them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from omni_domain.constants import STATE_CHANGED_DETAIL_TYPE
from omni_domain.models import ChannelInteraction
from state_publisher.subscriptions import CONTACT_CENTRE, MOBILE_PUSH, SUBSCRIPTIONS, WEB_PERSONALISATION

from .conftest import (
    BUS,
    NOW,
    World,
    cart,
    complaint,
    erasure,
    invoke,
    live_state,
    profile,
    spend,
    state_item,
    stream_event,
    stream_record,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "channel-subscriptions.md"
WEB, PUSH, CONTACT = WEB_PERSONALISATION.channel, MOBILE_PUSH.channel, CONTACT_CENTRE.channel


def _state_modify(customer_id: str, **changes: Any) -> dict[str, Any]:
    before = live_state(1, rolling_spend=spend("10.00"))
    return stream_record(
        "MODIFY",
        old=state_item(customer_id, before),
        new=state_item(customer_id, before.model_copy(update={"version": 2, **changes})),
    )


def _profile_modify(customer_id: str, **attributes: Any) -> dict[str, Any]:
    before = profile(customer_id)
    after = {**profile(customer_id, version=2, **attributes)}
    return stream_record("MODIFY", old=before, new=after)


def _consent_modify(customer_id: str) -> dict[str, Any]:
    before = profile(customer_id)
    decision = {"granted": False, "decided_at": "2026-11-29T21:00:00Z"}
    return stream_record(
        "MODIFY", old=before, new={**before, "version": 2, "consent": {"push": {"marketing": decision}}}
    )


# Sample stream record (one customer each) -> the channels whose rule must deliver its event.
SAMPLES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "gc-interaction": (
        _state_modify("gc-interaction", last_interaction={"web": ChannelInteraction(at=NOW, event_type="page_view")}),
        {WEB, CONTACT},
    ),
    "gc-cart": (_state_modify("gc-cart", cart=cart()), {WEB, PUSH}),
    "gc-complaint": (_state_modify("gc-complaint", friction_points=[complaint()]), {PUSH, CONTACT}),
    "gc-email": (_profile_modify("gc-email", email="new.address@example.org"), {CONTACT}),
    "gc-consent": (_consent_modify("gc-consent"), {WEB, PUSH, CONTACT}),
    "gc-erased": (stream_record("INSERT", new=erasure("gc-erased")), {WEB, PUSH, CONTACT}),
    # Unrelated: a spend-only change, which no channel reacts to (the rescorer's rule takes it).
    "gc-spend": (_state_modify("gc-spend", rolling_spend=spend("99.00")), set()),
}


def test_each_channel_receives_exactly_the_changes_its_pattern_names(world: World, handler: Any) -> None:
    # Given one rule per channel on the bus, each targeting its own queue
    queues = {
        subscription.channel: world.queue(subscription.rule_name, subscription.event_pattern)
        for subscription in SUBSCRIPTIONS
    }
    # When the publisher processes the sample records
    response = invoke(handler, stream_event(*(record for record, _ in SAMPLES.values())))
    assert response == {"batchItemFailures": []}
    # And something unrelated with the same detail shape arrives from another source
    unrelated = {"customer_id": "gc-other-source", "record": "erasure", "changed": ["erased_at"]}
    world.events.put_events(
        Entries=[
            {
                "Source": "omni.experience",
                "DetailType": STATE_CHANGED_DETAIL_TYPE,
                "Detail": json.dumps(unrelated),
                "EventBusName": BUS,
            }
        ]
    )
    # Then each channel's queue holds exactly the samples expected for it
    received = {channel: {m["detail"]["customer_id"] for m in world.drain(url)} for channel, url in queues.items()}
    expected = {
        subscription.channel: {
            customer for customer, (_, channels) in SAMPLES.items() if subscription.channel in channels
        }
        for subscription in SUBSCRIPTIONS
    }
    assert received == expected
    # And every sample really was published (the spend-only one too: it is unrelated, not unchanged)
    assert {m["detail"]["customer_id"] for m in world.drain()} == set(SAMPLES)


def test_the_page_shows_exactly_the_patterns_the_channels_use() -> None:
    page = DOC.read_text(encoding="utf-8")
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", page, flags=re.DOTALL)]
    patterns = [block for block in blocks if "detail-type" in block]
    assert patterns == [subscription.event_pattern for subscription in SUBSCRIPTIONS]
    for subscription in SUBSCRIPTIONS:
        assert f"(rule `{subscription.rule_name}`)" in page
        assert subscription.purpose in page


def test_the_page_tells_consumers_to_order_by_sequence() -> None:
    page = DOC.read_text(encoding="utf-8")
    assert "EventBridge does not guarantee delivery order" in page
    assert "`sequence`" in page
    assert "`version`" in page
