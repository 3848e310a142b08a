"""The one way the platform deploys a Lambda function.

Secure and observable by default:
- code from the `lambdas/` asset root, only the files its handler reaches (no
  bundling, no Docker); runtime libraries (Powertools, pydantic) from the
  public Powertools layer, version from config;
- its own role (no managed policies), a KMS-encrypted log group with the
  environment's retention, encrypted environment, X-Ray tracing, reserved
  concurrency from config;
- a dead-letter queue when it is invoked asynchronously;
- safe deployments: a published version behind the `live` alias, shifted by
  CodeDeploy (canary in production, all at once in dev) and rolled back
  automatically when the function's alarms fire.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration, IgnoreMode
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import PlatformConfig
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy
from infra.constructs.log_group import encrypted_log_group
from infra.constructs.secure_queue import DeadLetterQueue
from infra.lambda_assets import LAMBDA_ASSET_ROOT, asset_excludes
from infra.powertools_layer import powertools_layer

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
LIVE_ALIAS = "live"


def function_code(handler: str) -> lambda_.Code:
    """The handler's own asset: the files under `lambdas/` it reaches (`infra/lambda_assets.py`), nothing else."""
    # Gitignore patterns, anchored at the asset root: glob mode would match a bare name in any folder.
    return lambda_.Code.from_asset(str(LAMBDA_ASSET_ROOT), exclude=asset_excludes(handler), ignore_mode=IgnoreMode.GIT)


def powertools_layer_arn(version: int) -> str:
    # Name and publisher (AWS's Powertools account) come from the layer record, the file that
    # also says which Powertools release each layer version holds: the tests install that one.
    layer = powertools_layer()
    return f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{layer.publisher_account}:layer:{layer.name}:{version}"


class PlatformFunction(Construct):
    """A Lambda function with the platform's defaults; `alias` is what callers invoke."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        handler: str,
        description: str,
        service: str,
        encryption_key: kms.IKey,
        alert_topic: sns.ITopic,
        environment: Mapping[str, str] | None = None,
        timeout_seconds: int = 10,
        memory_mb: int | None = None,
        reserved_concurrency: int | None = None,
        asynchronous: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = encrypted_log_group(self, "Logs", config=config, encryption_key=encryption_key)
        self.role = self._role(description)
        self.dead_letter_queue: sqs.IQueue | None = (
            self._dead_letter_queue(config, encryption_key, description) if asynchronous else None
        )
        # A function that must never run twice at once (a loader) reserves exactly what it needs.
        reserved = reserved_concurrency or config.environment.sizing.lambda_reserved_concurrency or None
        self.function = self._function(
            config,
            handler=handler,
            description=description,
            encryption_key=encryption_key,
            environment=self._environment(config, service, environment),
            timeout_seconds=timeout_seconds,
            memory_mb=memory_mb,
            reserved=reserved,
            asynchronous=asynchronous,
        )
        self.alias = lambda_.Alias(self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version)
        self._alarms(alert_topic)
        self.deployment = self._deployment(config)
        self._acknowledge(config, asynchronous=asynchronous, reserved=reserved)

    def _role(self, description: str) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (least privilege: each grant is made by the stack that wires it)",
        )
        self.log_group.grant_write(role)
        return role

    def _dead_letter_queue(self, config: PlatformConfig, encryption_key: kms.IKey, description: str) -> sqs.IQueue:
        return DeadLetterQueue(
            self, "DeadLetters", encryption_key=encryption_key, retain=config.retain_data, purpose=description
        ).queue

    @staticmethod
    def _environment(config: PlatformConfig, service: str, environment: Mapping[str, str] | None) -> dict[str, str]:
        return {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": config.project,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # Responses and errors carry customer data: never copy them into traces.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
            "ENVIRONMENT": config.env_name,
            **(environment or {}),
        }

    def _function(
        self,
        config: PlatformConfig,
        *,
        handler: str,
        description: str,
        encryption_key: kms.IKey,
        environment: Mapping[str, str],
        timeout_seconds: int,
        memory_mb: int | None,
        reserved: int | None,
        asynchronous: bool,
    ) -> lambda_.Function:
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", powertools_layer_arn(config.environment.powertools_layer_version)
        )
        return lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=function_code(handler),
            layers=[powertools],
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            memory_size=memory_mb or config.environment.sizing.lambda_memory_mb,
            timeout=Duration.seconds(timeout_seconds),
            reserved_concurrent_executions=reserved,
            tracing=lambda_.Tracing.ACTIVE,
            environment=dict(environment),
            environment_encryption=encryption_key,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=2 if asynchronous else None,
        )

    def _alarms(self, alert_topic: sns.ITopic) -> None:
        self.errors_alarm = self._alarm(
            "Errors", self.alias.metric_errors(period=Duration.minutes(1)), alert_topic, "errors"
        )
        self.throttles_alarm = self._alarm(
            "Throttles", self.alias.metric_throttles(period=Duration.minutes(1)), alert_topic, "throttled invocations"
        )
        if self.dead_letter_queue is not None:
            # Work the function gave up on waits there for a person: say so on the first message.
            self.dead_letters_alarm = self._alarm(
                "DeadLettersWaiting",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                alert_topic,
                "failed invocations or undeliverable events waiting in the dead-letter queue",
            )

    def _deployment(self, config: PlatformConfig) -> codedeploy.LambdaDeploymentGroup:
        return codedeploy.LambdaDeploymentGroup(
            self,
            "Deployment",
            alias=self.alias,
            deployment_config=(
                codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES
                if config.environment.lambda_deployment == "canary"
                else codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
            ),
            alarms=[self.errors_alarm],
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, topic: sns.ITopic, what: str) -> cloudwatch.Alarm:
        description = f"{self.function.node.path}: {what} in the last minute"
        (alarm,) = alarm_at_or_above(self, topic, [Watch(f"{construct_id}Alarm", metric, 1, description)])
        return alarm

    def _acknowledge(self, config: PlatformConfig, *, asynchronous: bool, reserved: int | None) -> None:
        no_vpc = (
            "The function calls only AWS service APIs (TLS, IAM-authorised) and reaches no private network "
            "resource; a VPC would add NAT or endpoints without reducing exposure."
        )
        findings = [
            ("HIPAA.Security-LambdaInsideVPC", no_vpc),
            ("NIST.800.53.R5-LambdaInsideVPC", no_vpc),
            ("PCI.DSS.321-LambdaInsideVPC", no_vpc),
        ]
        if not asynchronous:
            synchronous = (
                "Invoked synchronously: the caller receives every error, and a DLQ only applies to asynchronous "
                "invocations (failed event-source records go to the source's own on-failure destination)."
            )
            findings += [("HIPAA.Security-LambdaDLQ", synchronous), ("NIST.800.53.R5-LambdaDLQ", synchronous)]
        if reserved is None:
            unreserved = f"Reserved concurrency is switched off in the {config.env_name} environment's sizing (0)."
            findings += [
                ("HIPAA.Security-LambdaConcurrency", unreserved),
                ("NIST.800.53.R5-LambdaConcurrency", unreserved),
            ]
        acknowledge(self.function, *findings)
        acknowledge(
            self.role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
            ),
        )
        acknowledge_grant_policy(self.role)
        acknowledge(
            self.deployment,
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
                "AWS's scoped-down policy for CodeDeploy Lambda deployments: it only shifts aliases and invokes hooks.",
            ),
        )
