"""Stage 1 foundation: what every other capability builds on.

- the platform KMS key (rotated) that encrypts buckets, topics, queues and tables;
- the data lake: raw and curated buckets, their access-log bucket, a Glue database;
- the customer event bus (triggers and state changes) with a replay archive;
- the alert topic every alarm publishes to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import PlatformConfig
from infra.constructs.lake_access import LakeBucket
from infra.constructs.secure_bucket import AccessLogBucket, DataBucket
from infra.stacks.platform_stack import PlatformStack
from omni_domain import constants

# Scratch space of data jobs in a lake bucket (Glue's --TempDir). A run removes its own
# folder when it ends; objects a killed run leaves behind expire after JOB_TEMP_EXPIRY_DAYS.
JOB_TEMP_PREFIX = "tmp/"
JOB_TEMP_EXPIRY_DAYS = 3
# AWS services that publish to the KMS-encrypted alert topic: alarms and rules.
_TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")
# Condition keys that tie a service's use of the key to this account's own resources: the
# account or resource on whose behalf the service calls, or the encryption context the service
# sends (which names the resource: a log group, topic, queue or bus).
SOURCE_CONDITION_KEYS = ("aws:sourceaccount", "aws:sourcearn")
ENCRYPTION_CONTEXT_KEY_PREFIX = "kms:encryptioncontext:"


def has_source_condition(conditions: Mapping[str, Mapping[str, object]]) -> bool:
    """Whether a statement's conditions name the account or resource a service acts for."""
    keys = {key.lower() for by_key in conditions.values() for key in by_key}
    return any(key in SOURCE_CONDITION_KEYS or key.startswith(ENCRYPTION_CONTEXT_KEY_PREFIX) for key in keys)


class PlatformKey(kms.Key):
    """The platform key. A key-policy statement for an AWS service says on whose behalf it may act.

    A service principal allowed without a source condition would use the key for any account's
    resources (the confused deputy). Constructs in other stacks add statements of their own, such as
    the state machine's log delivery: one that arrives without a source condition gets this
    account's from `source_conditions` (by service), and one for a service not listed there stops
    synthesis, so the policy never grants a service more than this account's resources.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, source_conditions: Mapping[str, dict[str, Any]], **props: Any
    ) -> None:
        self._source_conditions = dict(source_conditions)
        super().__init__(scope, construct_id, **props)

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        services = [p.service for p in statement.principals if isinstance(p, iam.ServicePrincipal)]
        if services and not has_source_condition(statement.conditions):
            if len(services) != 1 or services[0] not in self._source_conditions:
                raise ValueError(
                    f"a statement on the platform key lets {', '.join(services)} use it with no source "
                    "condition (aws:SourceAccount, aws:SourceArn or an encryption context of this account)"
                )
            statement.add_conditions(self._source_conditions[services[0]])
        return super().add_to_resource_policy(statement, allow_no_op)


class FoundationStack(PlatformStack):
    def build(self) -> None:
        config = self.config
        lake = config.environment.data_lake

        self.key: kms.Key = PlatformKey(
            self,
            "PlatformKey",
            source_conditions={
                # Vended log delivery (the retraining state machine's execution logs) reads with the key
                # on behalf of this account's log sources only.
                "delivery.logs.amazonaws.com": {
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {"aws:SourceArn": self.format_arn(service="logs", resource="*")},
                },
                # Entity Resolution (mdm.engine entity-resolution) encrypts what a matching workflow writes with
                # the key, for this account's matching workflows only (its documented confused-deputy keys).
                "entityresolution.amazonaws.com": {
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="entityresolution", resource="matchingworkflow", resource_name="*"
                        )
                    },
                },
            },
            alias=f"alias/{config.resource_name('platform')}",
            description=f"Encrypts the {config.project} {config.env_name} platform's data at rest",
            enable_key_rotation=True,
            pending_window=Duration.days(30 if config.retain_data else 7),
            removal_policy=self.stateful_removal_policy,
        )
        self._allow_alarms_and_rules_to_publish(config.resource_name("alerts"))
        self._allow_log_groups_of_this_account()

        self.access_logs = AccessLogBucket(
            self,
            "AccessLogs",
            retain=config.retain_data,
            expire_after=Duration.days(lake.access_logs_expire_after_days),
        ).bucket
        # Named deterministically so other stacks grant access by name (see lake_access).
        self.raw = LakeBucket(name_prefix=config.resource_name("raw"), name_suffix=config.region, key=self.key)
        self.curated = LakeBucket(name_prefix=config.resource_name("curated"), name_suffix=config.region, key=self.key)
        self.raw_bucket = self._data_bucket("RawData", config, self.raw)
        self.curated_bucket = self._data_bucket("CuratedData", config, self.curated)

        self.glue_database_name = config.resource_name("lake").replace("-", "_")
        glue.CfnDatabase(
            self,
            "LakeDatabase",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.glue_database_name,
                description="Customer events, source customer records and golden records in the data lake",
            ),
        )

        bus_name = self.event_bus_name = config.resource_name(constants.EVENT_BUS_SUFFIX)
        self.event_bus = events.EventBus(
            self,
            "CustomerEventBus",
            event_bus_name=bus_name,
            description="Real-time customer triggers and state changes for every channel",
        )
        archive = events.Archive(
            self,
            "CustomerEventArchive",
            source_event_bus=self.event_bus,
            description="Replay window for the customer event bus",
            event_pattern=events.EventPattern(account=[self.account]),
            retention=Duration.days(config.environment.event_archive_retention_days),
        )
        archive.apply_removal_policy(self.stateful_removal_policy)
        self._encrypt_bus_and_archive(bus_name, archive)

        self.alert_topic_name = config.resource_name("alerts")
        self.alert_topic = sns.Topic(
            self,
            "AlertTopic",
            topic_name=self.alert_topic_name,
            display_name=f"{config.project} {config.env_name} alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        # Alarms and rules in every later stack publish here; granting it once, in this
        # stack, means no later stack has to edit this topic's policy.
        self.alert_topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal(service) for service in _TOPIC_PUBLISHERS],
                resources=[self.alert_topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )

    def alert_topic_for(self, scope: Construct) -> sns.ITopic:
        """The alert topic as another stack should use it: imported by its known name, no export."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child("ImportedAlertTopic")
        if existing is not None:  # one import per stack, however many constructs alarm
            return cast(sns.ITopic, existing)
        return sns.Topic.from_topic_arn(
            stack, "ImportedAlertTopic", stack.format_arn(service="sns", resource=self.alert_topic_name)
        )

    def event_bus_for(self, scope: Construct) -> events.IEventBus:
        """The customer event bus, imported by its known name in another stack."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child("ImportedCustomerEventBus")
        if existing is not None:
            return cast(events.IEventBus, existing)
        return events.EventBus.from_event_bus_name(stack, "ImportedCustomerEventBus", self.event_bus_name)

    def grant_put_events(self, role: iam.IRole) -> None:
        """events:PutEvents on the customer event bus only, by its known name in the role's stack."""
        bus_arn = Stack.of(role).format_arn(service="events", resource="event-bus", resource_name=self.event_bus_name)
        role.add_to_principal_policy(iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn]))

    def _allow_alarms_and_rules_to_publish(self, alert_topic_prefix: str) -> None:
        """Alarms and rules publish to the encrypted alert topics; rules also dead-letter to encrypted queues.

        SNS and SQS ask the key on the publisher's behalf. Every statement names the topics or
        queues by the encryption context SNS and SQS send, which holds the resource's ARN in this
        account. CloudWatch's request also carries the alarm as its source. EventBridge's delivery
        to a target does not carry aws:SourceAccount or aws:SourceArn to KMS (AWS documents those
        keys as unsupported there), so its statements rest on the encryption context alone.
        """
        # The platform's alert topic and each team's (<project>-<env>-alerts-<team>).
        alert_topics = self.format_arn(service="sns", resource=f"{alert_topic_prefix}*")
        publish = ["kms:Decrypt", "kms:GenerateDataKey*"]
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=publish,
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {
                        "aws:SourceArn": self.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        ),
                        "kms:EncryptionContext:aws:sns:topicArn": alert_topics,
                    },
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=publish,
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": alert_topics}},
            )
        )
        # A rule's dead-letter queue (queues get generated names, so: this account's queues).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=publish,
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                resources=["*"],
                conditions={
                    "ArnLike": {"kms:EncryptionContext:aws:sqs:arn": self.format_arn(service="sqs", resource="*")}
                },
            )
        )

    def _allow_log_groups_of_this_account(self) -> None:
        """CloudWatch Logs encrypts the platform's log groups (functions, API access, WAF) with the key."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def _encrypt_bus_and_archive(self, bus_name: str, archive: events.Archive) -> None:
        """Encrypt the bus and its archive with the platform key.

        The L2 `kms_key` props write key-policy conditions on the bus's own ARN
        attribute, a cycle (key -> bus -> key); the ARN built from the bus's known
        name grants the same and avoids it. (EventBus.archive() also drops kms_key.)
        """
        for resource in (self.event_bus.node.default_child, archive.node.default_child):
            if not isinstance(resource, events.CfnEventBus | events.CfnArchive):
                raise TypeError(f"unexpected L1 resource {resource!r}")
            resource.kms_key_identifier = self.key.key_arn
        bus_arn = self.format_arn(service="events", resource="event-bus", resource_name=bus_name)
        events_service = iam.ServicePrincipal("events.amazonaws.com")
        # DescribeKey carries no encryption context: the account is its source condition.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:DescribeKey"],
                principals=[events_service],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"],
                principals=[events_service],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": self.account,
                        "kms:EncryptionContext:aws:events:event-bus:arn": bus_arn,
                    }
                },
            )
        )

    def _data_bucket(self, construct_id: str, config: PlatformConfig, named: LakeBucket) -> s3.Bucket:
        lake = config.environment.data_lake
        return DataBucket(
            self,
            construct_id,
            bucket_name=named.name,
            encryption_key=self.key,
            access_logs=self.access_logs,
            retain=config.retain_data,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tier-and-expire-old-versions",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(lake.infrequent_access_after_days),
                        ),
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=Duration.days(lake.glacier_after_days),
                        ),
                    ],
                    noncurrent_version_expiration=Duration.days(lake.noncurrent_versions_expire_after_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                s3.LifecycleRule(
                    id="expire-job-scratch",
                    prefix=JOB_TEMP_PREFIX,
                    expiration=Duration.days(JOB_TEMP_EXPIRY_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                ),
            ],
        ).bucket
