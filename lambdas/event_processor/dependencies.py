"""Composition root: the batch use case and its AWS adapters, built once per execution environment.

Built on first use rather than at import, so a test (or a benchmark) can swap
in other adapters with `use`.
"""

from __future__ import annotations

import boto3

from event_processor.aws import DynamoDBResolver, DynamoDBStateStore, EventBridgePublisher, SqsDeadLetters
from event_processor.batch import EventBatch
from event_processor.processor import CoalescingKinesisProcessor
from event_processor.settings import ProcessorSettings
from omni_domain.wiring import Wiring


def from_settings(settings: ProcessorSettings) -> CoalescingKinesisProcessor:
    dynamodb = boto3.client("dynamodb")
    return CoalescingKinesisProcessor(
        EventBatch(
            identities=DynamoDBResolver(dynamodb, settings.identity_table),
            states=DynamoDBStateStore(dynamodb, settings.customer_table),
            publisher=EventBridgePublisher(boto3.client("events"), settings.event_bus),
            dead_letters=SqsDeadLetters(boto3.client("sqs"), settings.dead_letter_queue_url),
            policy=settings.policy(),
        )
    )


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[CoalescingKinesisProcessor] = Wiring(lambda: from_settings(ProcessorSettings.from_environment()))
current = wiring.current
use = wiring.use
