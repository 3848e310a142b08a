"""Composition root: the routing policy, the suppression ledger and the publisher, built once per execution environment.

Built on first use rather than at import, so a test (or the sandbox) can point the
function at other resources or at fakes with `use`.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config

from alert_router.aws import DynamoDBLedger, SnsPublisher
from alert_router.ports import NotificationLedger, Publisher
from alert_router.router import RoutingPolicy
from alert_router.settings import RouterSettings
from omni_domain.wiring import Wiring

# Throttled requests are retried by botocore before the router sees them.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@dataclass(frozen=True, slots=True)
class Dependencies:
    policy: RoutingPolicy
    ledger: NotificationLedger
    publisher: Publisher


def from_settings(settings: RouterSettings) -> Dependencies:
    return Dependencies(
        policy=settings.policy(),
        ledger=DynamoDBLedger(boto3.client("dynamodb", config=_CLIENT_CONFIG), settings.suppression_table),
        publisher=SnsPublisher(boto3.client("sns", config=_CLIENT_CONFIG)),
    )


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[Dependencies] = Wiring(lambda: from_settings(RouterSettings.from_environment()))
current = wiring.current
use = wiring.use
