"""Stage 4 anomaly alerts: issues on a journey reach the team that owns it before they escalate.

From one declarative table in config (`alerts.watches`), each watched metric gets a
CloudWatch anomaly-detection alarm (band width, periods and direction from config)
whose description carries its routing (journey, channel, team). Each journey gets a
composite alarm (any of its watches) as its health on the dashboard. Every watch
alarm's state change goes, through EventBridge, to the alert router, which writes a
message people can act on (what moved, expected band against observed, since when,
a dashboard link), keeps repeats of a flapping alarm quiet, and publishes to the
owning team's KMS-encrypted topic.

Amazon Lookout for Metrics (engine `lookout`, kept because it was asked for) was
retired by AWS on 2025-10-09 and its resource types are gone from CloudFormation:
selecting it adds a detector over the customer-event metrics and an alert to the
default team's topic, with a synthesis warning that they can no longer deploy; the
CloudWatch alarms stay in place. Those templates are not linted by cfn-lint (E3006:
unknown resource type) for the same reason.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lookoutmetrics as lookout
from aws_cdk import aws_sns as sns

from alert_router import constants as router
from alert_router.routing import alarm_description
from infra.config import WatchConfig
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.stacks.experience_pathway_stack import ExperiencePathwayStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.profile_service_stack import ProfileServiceStack
from omni_domain.constants import EVENT_PROCESSOR_SERVICE

LOOKOUT_RETIRED_WARNING = (
    "alerts.engine is 'lookout': Amazon Lookout for Metrics reached end of support on 2025-10-09 and its "
    "AWS::LookoutMetrics resource types are no longer in the CloudFormation specification, so this stack's "
    "detector and alert will fail to deploy; the CloudWatch anomaly-detection alarms stay in place beside them. "
    "Set alerts.engine to 'cloudwatch'."
)
_COMPARISON = {
    "above": cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
    "below": cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
    "both": cloudwatch.ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
}


class AnomalyAlertsStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        self._profiles = self.deps.require(ProfileServiceStack)
        self._experience = self.deps.require(ExperiencePathwayStack)
        alerts = self.config.environment.alerts

        self.team_topics = {
            team: sns.Topic(
                self,
                f"Team-{team}",
                topic_name=self.config.resource_name("alerts", team),
                display_name=f"{self.config.project} {self.config.env_name} alerts for {team}",
                master_key=foundation.key,
                enforce_ssl=True,
            )
            for team in alerts.teams
        }
        self.watch_alarms = {watch.name: self._watch(watch) for watch in alerts.watches}
        self.journey_alarms = self._journeys(alerts.watches)
        self._router(foundation)
        self._dashboard()
        if alerts.engine == "lookout":
            Annotations.of(self).add_warning_v2("omni:alerts:lookout-retired", LOOKOUT_RETIRED_WARNING)
            self._lookout_detector(foundation)

    def _lookout_detector(self, foundation: FoundationStack) -> None:
        """Amazon Lookout for Metrics over the customer-event metrics, alerting the default team (retired)."""
        config = self.config
        role = iam.Role(
            self,
            "LookoutRole",
            assumed_by=iam.ServicePrincipal("lookoutmetrics.amazonaws.com"),
            description="Lookout for Metrics: read the platform's CloudWatch metrics, publish alerts",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"], resources=["*"])
        )
        default_topic = self.team_topics[config.environment.alerts.default_team]
        role.add_to_principal_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[default_topic.topic_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[foundation.key.key_arn])
        )
        acknowledge_grant_policy(role)
        acknowledge(
            role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "CloudWatch GetMetricData and ListMetrics support no resource-level permissions.",
            ),
        )
        detector = lookout.CfnAnomalyDetector(
            self,
            "LookoutDetector",
            anomaly_detector_name=config.resource_name("customer-events"),
            anomaly_detector_description="Customer events per type and channel (Amazon Lookout for Metrics, retired)",
            anomaly_detector_config=lookout.CfnAnomalyDetector.AnomalyDetectorConfigProperty(
                anomaly_detector_frequency="PT5M"
            ),
            kms_key_arn=foundation.key.key_arn,
            metric_set_list=[
                lookout.CfnAnomalyDetector.MetricSetProperty(
                    metric_set_name="customer-events",
                    metric_set_frequency="PT5M",
                    metric_list=[
                        lookout.CfnAnomalyDetector.MetricProperty(
                            metric_name="EventsApplied", aggregation_function="SUM", namespace=config.project
                        )
                    ],
                    dimension_list=["event_type", "channel"],
                    metric_source=lookout.CfnAnomalyDetector.MetricSourceProperty(
                        cloudwatch_config=lookout.CfnAnomalyDetector.CloudwatchConfigProperty(role_arn=role.role_arn)
                    ),
                )
            ],
        )
        alert = lookout.CfnAlert(
            self,
            "LookoutAlert",
            alert_name=config.resource_name("customer-events-alert"),
            alert_description="Anomalies Lookout for Metrics finds in customer events",
            alert_sensitivity_threshold=70,
            anomaly_detector_arn=detector.attr_arn,
            action=lookout.CfnAlert.ActionProperty(
                sns_configuration=lookout.CfnAlert.SNSConfigurationProperty(
                    role_arn=role.role_arn, sns_topic_arn=default_topic.topic_arn
                )
            ),
        )
        retired = "Amazon Lookout for Metrics is retired: its types left the CloudFormation specification (see the synthesis warning)."
        for resource in (detector, alert):
            acknowledge(resource, ("CloudFormation-Validate::F3006", retired))

    def _metric(self, watch: WatchConfig) -> cloudwatch.IMetric:
        period = Duration.minutes(watch.period_minutes)
        if watch.source == "customer-events":
            return cloudwatch.Metric(
                namespace=self.config.project,
                metric_name="EventsApplied",
                dimensions_map={
                    "event_type": watch.event_type or "",
                    "channel": watch.channel or "",
                    "service": EVENT_PROCESSOR_SERVICE,
                },
                statistic=watch.statistic,
                period=period,
            )
        if watch.source == "revenue":
            return cloudwatch.Metric(
                namespace=self.config.project,
                metric_name="Revenue",
                dimensions_map={
                    "channel": watch.channel or "",
                    "currency": self.config.environment.events.spend_currency,
                    "service": EVENT_PROCESSOR_SERVICE,
                },
                statistic=watch.statistic,
                period=period,
            )
        if watch.source == "profile-api":
            return self._profiles.api.api.metric(watch.metric or "", statistic=watch.statistic, period=period)
        return self._experience.processor.function.metric(watch.metric or "", statistic=watch.statistic, period=period)

    def _watch(self, watch: WatchConfig) -> cloudwatch.AnomalyDetectionAlarm:
        what = {
            "customer-events": f"{watch.event_type} events on {watch.channel}",
            "revenue": f"revenue on {watch.channel}",
        }.get(watch.source, f"{watch.metric} of the {watch.source}")
        alarm = cloudwatch.AnomalyDetectionAlarm(
            self,
            f"Watch-{watch.name}",
            alarm_name=self.config.resource_name("watch", watch.name),
            alarm_description=alarm_description(
                journey=watch.journey,
                channel=watch.channel,
                team=watch.team,
                metric=watch.name,
                summary=f"{what} moved {watch.direction} the expected band ({watch.band} standard deviations)",
            ),
            metric=self._metric(watch),
            std_devs=watch.band,
            evaluation_periods=watch.evaluation_periods,
            datapoints_to_alarm=watch.datapoints_to_alarm,
            comparison_operator=_COMPARISON[watch.direction],
            # No data is no signal: a quiet night is not an incident (and the band learns the quiet).
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        routed = (
            "Its state changes reach the alert router through EventBridge, which writes the message and "
            "publishes to the owning team's topic; an alarm action as well would notify twice."
        )
        acknowledge(
            alarm,
            ("HIPAA.Security-CloudWatchAlarmAction", routed),
            ("NIST.800.53.R5-CloudWatchAlarmAction", routed),
        )
        return alarm

    def _journeys(self, watches: tuple[WatchConfig, ...]) -> dict[str, cloudwatch.CompositeAlarm]:
        journeys: dict[str, list[WatchConfig]] = {}
        for watch in watches:
            journeys.setdefault(watch.journey, []).append(watch)
        return {
            journey: cloudwatch.CompositeAlarm(
                self,
                f"Journey-{journey}",
                composite_alarm_name=self.config.resource_name("journey", journey),
                alarm_description=f"Health of the {journey} journey: in alarm while any of its watches is",
                alarm_rule=cloudwatch.AlarmRule.any_of(
                    *(
                        cloudwatch.AlarmRule.from_alarm(self.watch_alarms[w.name], cloudwatch.AlarmState.ALARM)
                        for w in members
                    )
                ),
            )
            for journey, members in journeys.items()
        }

    def _router(self, foundation: FoundationStack) -> None:
        config = self.config
        suppression = PlatformTable(
            self,
            "Suppression",
            config=config,
            encryption_key=foundation.key,
            table_name=config.resource_name("alert-suppression"),
            partition_key=router.SUPPRESSION_PARTITION_KEY,
            time_to_live_attribute=router.SUPPRESSION_TTL_ATTRIBUTE,
        ).table
        dashboard = (
            f"https://{config.region}.console.aws.amazon.com/cloudwatch/home?region={config.region}"
            f"#dashboards/dashboard/{config.resource_name('alerts')}"
        )
        self.router = PlatformFunction(
            self,
            "AlertRouter",
            config=config,
            handler=router.ALERT_ROUTER_HANDLER,
            description="Alert router: anomaly alarm state changes to a readable message on the owning team's topic",
            service=router.ALERT_ROUTER_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            asynchronous=True,
            environment={
                router.ENV_TEAM_TOPICS: self.to_json_string(
                    {team: t.topic_arn for team, t in self.team_topics.items()}
                ),
                router.ENV_DEFAULT_TEAM: config.environment.alerts.default_team,
                router.ENV_DASHBOARD_URL: dashboard,
                router.ENV_SUPPRESSION_TABLE: suppression.table_name,
                router.ENV_SUPPRESSION_MINUTES: str(config.environment.alerts.suppression_minutes),
            },
        )
        role = self.router.role
        for topic in self.team_topics.values():
            role.add_to_principal_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[foundation.key.key_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # Every claim is one conditional write: no reads, no deletes (TTL cleans up).
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[suppression.table_arn],
            )
        )
        acknowledge_grant_policy(role)
        events.Rule(
            self,
            "WatchStateChanged",
            description="Anomaly alarms of this platform changed state: route them to their team",
            event_pattern=events.EventPattern(
                source=[router.ALARM_EVENT_SOURCE],
                detail_type=[router.ALARM_STATE_CHANGE],
                detail={"alarmName": events.Match.prefix(config.resource_name("watch") + "-")},
            ),
            targets=[targets.LambdaFunction(self.router.alias, retry_attempts=4, max_event_age=Duration.hours(2))],
        )

    def _dashboard(self) -> None:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.config.resource_name("alerts"),
            default_interval=Duration.days(1),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Journeys", alarms=list(self.journey_alarms.values()), width=24, height=3
            )
        )
        # Each watch's alarm widget draws its metric with the expected band.
        dashboard.add_widgets(
            *(
                cloudwatch.AlarmWidget(title=f"{name}: band and value", alarm=alarm, width=8, height=6)
                for name, alarm in self.watch_alarms.items()
            )
        )
