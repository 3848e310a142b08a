"""Stage 3 experience pathway: customer events on Kinesis, the live customer state within seconds.

Channels put events on the KMS-encrypted stream (partition key: the customer
identity). The event processor reads it through an event-source mapping whose
settings come from config: batch size and window, parallelization, partial batch
responses, bisect on error, bounded retries and record age, and an encrypted
on-failure queue, so a bad record never blocks a shard and nothing is dropped
silently. Invalid records go to their own dead-letter queue with the reason.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis

from infra.constructs.compliance import acknowledge
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack


class ExperiencePathwayStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        events = self.config.environment.events
        on_demand = events.stream_mode == "on_demand"
        self.stream = kinesis.Stream(
            self,
            "CustomerEvents",
            stream_name=self.config.resource_name("customer-events"),
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else events.shards,
            retention_period=Duration.hours(events.retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=foundation.key,
            removal_policy=self.stateful_removal_policy,
        )
        acknowledge(
            self.stream,
            (
                "AwsSolutions-KDS3",
                "Deliberately the platform's customer-managed key, not aws/kinesis: one key policy, which we "
                "control and audit, governs every store of customer data, and consumers need an explicit grant.",
            ),
        )
