"""The daily feature-drift check: a scheduled job, its least-privilege role, and the owning team's alarm.

EventBridge Scheduler invokes `feature_drift.handler` on `feature_drift.schedule`
with the scheduled time, so a retried run reads the same window. The job reads
the serving model's baseline (endpoint -> config -> model -> `model.tar.gz` under
the curated lake's `propensity/runs/`) and the inputs of the window's decisions
from the decision log (a filtered Scan), then emits a population stability
index per input. The alarm watches the largest one of the day and notifies the
owning team's topic (`feature_drift.team`, else `alerts.default_team`) at
`feature_drift.threshold`; the job's own failures alert the platform team, as
every function's do.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from eligibility import constants as eligibility
from feature_drift import constants as drift
from infra.config import PlatformConfig
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy, wildcard_resource_finding
from infra.constructs.lake_access import grant_prefix_read
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.table_access import grant_table
from infra.stacks.foundation_stack import FoundationStack
from model_cleanup import constants as cleanup

# Where the retraining pipeline writes each run's artefacts in the curated lake (propensity_stack's WORK_PREFIX).
MODEL_ARTEFACTS_PREFIX = "propensity/runs/"
TIMEOUT_SECONDS = 300


class FeatureDriftCheck(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        foundation: FoundationStack,
        decisions_table: dynamodb.ITable,
        endpoint_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.environment.feature_drift
        stack = Stack.of(self)
        self.function = PlatformFunction(
            self,
            "Job",
            config=config,
            handler=drift.FEATURE_DRIFT_HANDLER,
            description="Feature drift: live model inputs against the training baseline, PSI per input",
            service=drift.FEATURE_DRIFT_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=TIMEOUT_SECONDS,
            asynchronous=True,  # the schedule invokes it asynchronously: a run that keeps failing is dead-lettered
            environment={
                eligibility.ENV_DECISIONS_TABLE: decisions_table.table_name,
                eligibility.ENV_PROPENSITY_ENDPOINT: endpoint_name,
                drift.ENV_THRESHOLD: str(settings.threshold),
                drift.ENV_WINDOW_DAYS: str(settings.window_days),
                drift.ENV_MIN_ROWS: str(settings.min_rows),
                drift.ENV_MAX_ROWS: str(settings.max_rows),
            },
        )
        role = self.function.role
        grant_table(role, decisions_table, foundation.key, actions=("dynamodb:Scan",))
        models = stack.format_arn(service="sagemaker", resource="model", resource_name=f"{cleanup.ARTEFACT_PREFIX}*")
        configs = stack.format_arn(
            service="sagemaker", resource="endpoint-config", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        for action, resource in (
            (
                "sagemaker:DescribeEndpoint",
                stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint_name),
            ),
            ("sagemaker:DescribeEndpointConfig", configs),
            ("sagemaker:DescribeModel", models),
        ):
            role.add_to_principal_policy(iam.PolicyStatement(actions=[action], resources=[resource]))
        grant_prefix_read(
            role, foundation.curated, MODEL_ARTEFACTS_PREFIX, why="the serving model's model.tar.gz (its baseline)"
        )
        run_named = "The retraining pipeline names each run's model and endpoint config propensity-<execution>."
        acknowledge(
            role,
            (wildcard_resource_finding(stack, models), run_named),
            (wildcard_resource_finding(stack, configs), run_named),
        )
        acknowledge_grant_policy(role)
        self._schedule(config)
        self.alarm = self._alarm(config)

    def _schedule(self, config: PlatformConfig) -> None:
        role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="Invokes the feature-drift check on its schedule",
        )
        self.function.alias.grant_invoke(role)
        acknowledge_grant_policy(role)
        scheduler.CfnSchedule(
            self,
            "Schedule",
            name=config.resource_name("feature-drift"),
            description="Checks the propensity model's inputs for drift (feature_drift.schedule in config)",
            schedule_expression=config.environment.feature_drift.schedule,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.function.alias.function_arn,
                role_arn=role.role_arn,
                # The window ends at the scheduled time: a retry or a replay reads the same decisions.
                input=json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"}),
            ),
        )

    def _alarm(self, config: PlatformConfig) -> cloudwatch.Alarm:
        settings = config.environment.feature_drift
        team = config.environment.feature_drift_team
        stack = Stack.of(self)
        # The team's topic (anomaly-alerts, same stage), by its known name: no cross-stack export.
        topic = sns.Topic.from_topic_arn(
            self, "TeamTopic", stack.format_arn(service="sns", resource=config.resource_name("alerts", team))
        )
        metric = cloudwatch.Metric(
            namespace=config.project,
            metric_name=drift.METRIC_MAX,
            dimensions_map={"service": drift.FEATURE_DRIFT_SERVICE},
            statistic="Maximum",
            period=Duration.days(1),
        )
        what = (
            f"Feature drift: a propensity model input's population stability index reached {settings.threshold} "
            f"over the last {settings.window_days} days of decisions. The job's log line 'feature drift' names the "
            "inputs; FeatureDrift by Feature shows each. See docs/data-scientist.md#feature-drift."
        )
        (alarm,) = alarm_at_or_above(self, topic, [Watch("DriftAlarm", metric, settings.threshold, what)])
        return alarm
