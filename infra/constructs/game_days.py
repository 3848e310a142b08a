"""Game days as code: AWS FIS experiment templates that fail the platform's functions on purpose.

For each target function (the event processor and the two APIs) there are two
experiments, one per fault: `errors` (aws:lambda:invocation-error: the function runs,
then the invocation is reported failed, the worst case for a retry) and `delay`
(aws:lambda:invocation-add-delay: each affected invocation starts late). Every
experiment stops by itself when any journey's health (the composite alarms of the
anomaly alerts) goes into alarm, logs to the platform's log bucket, and runs as a
role that can do exactly what FIS's Lambda actions need and nothing else.

FIS's Lambda actions work through an AWS-managed extension in the target function:
FIS writes the fault configuration under a prefix of a configuration bucket and the
extension reads it there. `prepare_target` gives a function the extension's layer,
the two environment variables the extension needs and read access to that prefix
only; it is called only when an environment enables game days, so the functions of
any other environment carry none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import PlatformConfig
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy, wildcard_resource_finding
from infra.constructs.lake_access import LakeBucket
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.secure_bucket import DataBucket
from infra.fis_extension import fis_extension

# Where FIS writes fault configurations and the extension polls for them.
CONFIG_PREFIX = "FisConfigs/"
# The extension's wrapper script: it starts the extension's proxy in front of the runtime.
EXEC_WRAPPER = "/opt/aws-fis/bootstrap"
ENV_CONFIGURATION_LOCATION = "AWS_FIS_CONFIGURATION_LOCATION"
ENV_EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"
ENV_EXTENSION_METRICS = "AWS_FIS_EXTENSION_METRICS"
FIS_ENVIRONMENT = (ENV_CONFIGURATION_LOCATION, ENV_EXEC_WRAPPER, ENV_EXTENSION_METRICS)
# Experiment logs go under this prefix of the platform's log bucket (log delivery adds AWSLogs/<account>/).
LOG_PREFIX = "fis-experiments"
LOG_SCHEMA_VERSION = 2
INVOCATION_ERROR = "aws:lambda:invocation-error"
INVOCATION_ADD_DELAY = "aws:lambda:invocation-add-delay"
TARGET_TYPE = "aws:lambda:function"


@dataclass(frozen=True)
class Fault:
    name: str
    action_id: str
    summary: str


FAULTS = (
    Fault("errors", INVOCATION_ERROR, "invocations run, then are reported failed"),
    Fault("delay", INVOCATION_ADD_DELAY, "invocations start late"),
)


def config_bucket(config: PlatformConfig, key: kms.IKey) -> LakeBucket:
    """The configuration bucket, known by name so the target functions' stacks need no reference to it."""
    return LakeBucket(name_prefix=config.resource_name("fis-config"), name_suffix=config.region, key=key)


def extension_layer_arn(scope: Construct, config: PlatformConfig, architecture: lambda_.Architecture) -> str:
    """The recorded layer version for the region, else the public parameter CloudFormation resolves at deploy."""
    extension = fis_extension()
    pinned = extension.pinned_arn(config.region, architecture.name)
    if pinned is not None:
        return pinned
    return ssm.StringParameter.value_for_string_parameter(Stack.of(scope), extension.parameter(architecture.name))


def prepare_target(target: PlatformFunction, *, config: PlatformConfig, bucket: LakeBucket) -> None:
    """The extension's layer and settings on the function, and read access to the configuration prefix only."""
    function = target.function
    function.add_layers(
        lambda_.LayerVersion.from_layer_version_arn(
            target, "FisExtension", extension_layer_arn(target, config, function.architecture)
        )
    )
    function.add_environment(ENV_CONFIGURATION_LOCATION, f"{bucket.arn}/{CONFIG_PREFIX}")
    function.add_environment(ENV_EXEC_WRAPPER, EXEC_WRAPPER)
    # The extension's own metrics (faults applied, polls) in the aws-fis-extension namespace.
    function.add_environment(ENV_EXTENSION_METRICS, "all")
    role = target.role
    stack = Stack.of(target)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.arn],
            conditions={"StringLike": {"s3:prefix": [f"{CONFIG_PREFIX}*"]}},
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.objects_arn(CONFIG_PREFIX)])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[bucket.key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": bucket.arn,
                }
            },
        )
    )
    acknowledge(
        role,
        (
            wildcard_resource_finding(role, bucket.objects_arn(CONFIG_PREFIX)),
            "The FIS extension reads the fault configurations FIS writes under this one prefix; their names "
            "are FIS's own (one per experiment), so they cannot be listed in advance.",
        ),
    )


class GameDays(Construct):
    """The configuration bucket, the experiment role and one experiment template per target and fault."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        key: kms.IKey,
        log_bucket: s3.Bucket,
        targets: Mapping[str, PlatformFunction],
        journey_alarm_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        stack = Stack.of(self)
        bucket = config_bucket(config, key)
        DataBucket(
            self,
            "FaultConfigurations",
            bucket_name=bucket.name,
            encryption_key=key,
            access_logs=log_bucket,
            # Fault configurations live for one experiment: nothing in this bucket is worth keeping.
            retain=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-fault-configurations",
                    expiration=Duration.days(1),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        for target in targets.values():
            prepare_target(target, config=config, bucket=bucket)
        self._allow_log_delivery(log_bucket)
        self.role = self._experiment_role(bucket, targets)
        self.stop_conditions = [
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=config.resource_name("journey", journey),
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for journey in journey_alarm_names
        ]
        self.templates = {
            (name, fault.name): self._template(name, target, fault, log_bucket)
            for name, target in targets.items()
            for fault in FAULTS
        }

    def _experiment_role(self, bucket: LakeBucket, targets: Mapping[str, PlatformFunction]) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "ExperimentRole",
            description="AWS FIS game days: write fault configurations for the platform's target functions",
            # Only this account's experiments may assume it (FIS's confused-deputy keys).
            assumed_by=iam.ServicePrincipal(
                "fis.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(service="fis", resource="experiment", resource_name="*")
                    },
                },
            ),
        )
        # What the Lambda actions need (FIS actions reference): write and remove the fault configuration,
        # read the targets' configuration location, resolve targets.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:DeleteObject"], resources=[bucket.objects_arn(CONFIG_PREFIX)]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey"],
                resources=[bucket.key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                        "kms:EncryptionContext:aws:s3:arn": bucket.arn,
                    }
                },
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:GetFunction"],
                resources=[target.function.function_arn for target in targets.values()],
            )
        )
        role.add_to_principal_policy(
            # tag:GetResources backs FIS's target resolution; logs:CreateLogDelivery starts the experiment's
            # log delivery to the log bucket (whose policy already admits it, so no bucket-policy rights).
            iam.PolicyStatement(actions=["tag:GetResources", "logs:CreateLogDelivery"], resources=["*"])
        )
        acknowledge_grant_policy(role)
        acknowledge(
            role,
            (
                wildcard_resource_finding(role, bucket.objects_arn(CONFIG_PREFIX)),
                "FIS names each fault configuration after its experiment, under this one prefix of the "
                "configuration bucket.",
            ),
            (
                "AwsSolutions-IAM5[Resource::*]",
                "tag:GetResources and logs:CreateLogDelivery support no resource-level permissions.",
            ),
        )
        return role

    def _allow_log_delivery(self, log_bucket: s3.Bucket) -> None:
        """CloudWatch Logs' vended delivery writes the experiment logs for this account only."""
        stack = Stack.of(log_bucket)
        source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": stack.format_arn(service="logs", resource="*")},
        }
        delivery = iam.ServicePrincipal("delivery.logs.amazonaws.com")
        log_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[delivery],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[log_bucket.bucket_arn],
                conditions=source,
            )
        )
        log_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[delivery],
                actions=["s3:PutObject"],
                resources=[log_bucket.arn_for_objects(f"{LOG_PREFIX}/AWSLogs/{stack.account}/*")],
                conditions={
                    **source,
                    "StringEquals": {**source["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
                },
            )
        )

    def _template(
        self, name: str, target: PlatformFunction, fault: Fault, log_bucket: s3.IBucket
    ) -> fis.CfnExperimentTemplate:
        settings = self._config.environment.game_days
        parameters = {
            "duration": f"PT{settings.duration_minutes}M",
            "invocationPercentage": str(settings.invocation_percentage),
        }
        if fault.action_id == INVOCATION_ERROR:
            # The code runs and its writes land before the failure: what a retry must absorb.
            parameters["preventExecution"] = "false"
        else:
            parameters["startupDelayMilliseconds"] = str(settings.added_delay_ms)
        return fis.CfnExperimentTemplate(
            self,
            f"{name}-{fault.name}",
            description=(
                f"Game day on the {name} function: {settings.invocation_percentage}% of {fault.summary} "
                f"for {settings.duration_minutes} minutes; stops when any journey's health alarm fires"
            ),
            role_arn=self.role.role_arn,
            targets={
                "Functions": fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                    resource_type=TARGET_TYPE, selection_mode="ALL", resource_arns=[target.function.function_arn]
                )
            },
            actions={
                fault.name: fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id=fault.action_id,
                    description=f"{fault.summary} ({name})",
                    parameters=parameters,
                    targets={"Functions": "Functions"},
                )
            },
            stop_conditions=[
                fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                    source="aws:cloudwatch:alarm", value=alarm
                )
                for alarm in self.stop_conditions
            ],
            experiment_options=fis.CfnExperimentTemplate.ExperimentTemplateExperimentOptionsProperty(
                account_targeting="single-account", empty_target_resolution_mode="fail"
            ),
            log_configuration=fis.CfnExperimentTemplate.ExperimentTemplateLogConfigurationProperty(
                log_schema_version=LOG_SCHEMA_VERSION,
                s3_configuration={"BucketName": log_bucket.bucket_name, "Prefix": LOG_PREFIX},
            ),
            tags={"Name": self._config.resource_name("game-day", name, fault.name)},
        )
