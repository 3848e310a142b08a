"""SQS queues with the platform's defaults: KMS (platform key), TLS only, 14-day retention."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.compliance import acknowledge


class DeadLetterQueue(Construct):
    """Where failed work is kept, with its reason, for inspection and redrive: never dropped."""

    def __init__(
        self, scope: Construct, construct_id: str, *, encryption_key: kms.IKey, retain: bool, purpose: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=encryption_key,
            data_key_reuse=Duration.hours(1),  # fewer KMS calls; the key still rotates yearly
            enforce_ssl=True,
            retention_period=Duration.days(14),  # SQS maximum: two weeks to inspect and redrive
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.purpose = purpose

    def acknowledge_as_dead_letter_queue(self) -> None:
        """For a queue used as a dead-letter queue in a way cdk-nag does not see (an event-source
        mapping's on-failure destination, a sink the code writes to), not as a redrive target."""
        acknowledge(self.queue, ("AwsSolutions-SQS3", f"This queue is itself the dead-letter queue of {self.purpose}."))
