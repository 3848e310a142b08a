"""Stage 4 propensity model: scheduled retraining on SageMaker, champion/challenger in the model registry, served
serverless.

A Step Functions state machine runs, on the schedule in config (its states: `propensity_pipeline`):
1. prepare: a Glue Python shell job splits the labelled data under the raw
   lake's `propensity/` prefix into train and validation sets (leakage dropped);
2. find the champion: the newest approved model package of the model package group;
3. tune: a SageMaker hyperparameter tuning job over `propensity.search_space` (the
   space `omni propensity train` searches locally), maximising `validation:auc`,
   `propensity.tuning_max_jobs` training jobs, `propensity.tuning_parallel_jobs` at
   once; each runs the project's `propensity/train.py` in script mode on the
   built-in XGBoost image of the region (account from the registries file; no
   SageMaker SDK at synthesis) from a reproducible source bundle, output and
   volumes encrypted with the platform key, and scores the champion (its
   `champion` channel) on the same holdout (`champion:auc`);
4. decide (a function running `model_promotion`): the challenger is promoted only
   if its AUC reaches `propensity.auc_threshold` and beats the champion's by
   `propensity.promotion_margin`; it is registered in the group either way
   (Approved, PendingManualApproval or Rejected, with both AUCs and the reason);
5. an approved challenger is deployed: the model (the same bundle serves
   `propensity/inference.py`), a serverless endpoint config, then the endpoint is
   created or updated and the run waits until it serves the new model; older runs'
   models and endpoint configs are removed, keeping the newest
   `propensity.keep_models` runs' and whatever the endpoint uses (a function
   running `model_cleanup`, which `omni propensity cleanup` also runs by hand).
   Where approval is manual (`propensity.require_manual_approval`, on by default
   where data is retained), the team is told; approving the package fires
   "SageMaker Model Package State Change", whose rule starts the pipeline with the
   package to deploy. A kept champion is reported to the team with both AUCs.

Every Task retries throttling and transient service errors with exponential
backoff and full jitter; any error it does not recover from, an AUC under the
floor, or an endpoint that fails, takes the failure path: a message naming
the error to the platform team's alert topic, then a Fail state carrying it.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import ArnFormat, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn

from eligibility.attributes import MODEL_ATTRIBUTES
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy, wildcard_resource_finding
from infra.constructs.glue_job_role import GlueJobRole
from infra.constructs.lake_access import grant_prefix_read, grant_prefix_read_write
from infra.constructs.log_group import encrypted_log_group
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.source_bundle import deterministic_tar_gz
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.propensity_pipeline import (
    AUC_METRIC,
    AUC_METRIC_REGEX,
    GLUE_TRANSIENT,
    LAMBDA_TRANSIENT,
    SAGEMAKER_JOB_TRANSIENT,
    SAGEMAKER_SDK_TRANSIENT,
    SERVING_ENTRY,
    TARGET_COLUMN,
    TRAINING_ENTRY,
    WORK_PREFIX,
    PipelineResources,
    RetrainingSteps,
)
from model_cleanup import constants as cleanup
from model_promotion import constants as promotion

REPOSITORY = Path(__file__).resolve().parents[2]
REGISTRIES = Path(__file__).resolve().parents[1] / "data" / "sagemaker_xgboost_registries.json"
TRAINING_SOURCE = REPOSITORY / "sagemaker"
PREPARE_SCRIPT = REPOSITORY / "glue_jobs" / "propensity_prepare.py"
SOURCE_PREFIX = "propensity/"
LEAKING_COLUMNS = "duration"  # known only after the outcome: never a feature
# The xgboost each built-in image installs (aws/sagemaker-xgboost-container, docker/<version>/base/Dockerfile.cpu,
# XGBOOST_VERSION): the tests train with exactly this one (pyproject.toml), so they train what SageMaker trains.
XGBOOST_OF_IMAGE = {"3.0-5": "3.0.5"}
# Defined with the pipeline's states; imported from here by the tests and the training code's tests.
__all__ = [
    "AUC_METRIC",
    "AUC_METRIC_REGEX",
    "GLUE_TRANSIENT",
    "LAMBDA_TRANSIENT",
    "SAGEMAKER_JOB_TRANSIENT",
    "SAGEMAKER_SDK_TRANSIENT",
    "SERVING_ENTRY",
    "TRAINING_ENTRY",
    "PropensityStack",
    "xgboost_image",
]


def xgboost_image(region: str, version: str) -> str:
    """The built-in XGBoost image URI of a region, from the registries file (no SageMaker SDK needed)."""
    registries = json.loads(REGISTRIES.read_text(encoding="utf-8"))["registries"]
    if region not in registries:
        raise ValueError(f"no SageMaker XGBoost registry known for region {region}")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{registries[region]}.dkr.ecr.{region}.{domain}/sagemaker-xgboost:{version}"


class PropensityStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        settings = self.config.environment.propensity
        self.endpoint_name = self.config.resource_name(cleanup.ENDPOINT_SUFFIX)
        self.pipeline_name = self.config.resource_name(cleanup.PIPELINE_SUFFIX)
        image = xgboost_image(self.config.region, settings.xgboost_version)
        bundle = s3_assets.Asset(self, "TrainingSource", path=str(deterministic_tar_gz(TRAINING_SOURCE)))
        prepare_job = self._prepare_job(foundation)
        self.training_role = self._training_role(foundation, image, bundle)
        self._cleanup_function(foundation)
        self.model_package_group = self._model_registry()
        self.manual_approval = (
            self.config.retain_data if settings.require_manual_approval is None else settings.require_manual_approval
        )
        self.model_promotion = PlatformFunction(
            self,
            "ModelPromotion",
            config=self.config,
            handler=promotion.MODEL_PROMOTION_HANDLER,
            description="Decides whether a retrained propensity model replaces the approved one",
            service=promotion.MODEL_PROMOTION_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
        )
        acknowledge(
            self.model_promotion.role,
            ("AwsSolutions-IAM5[Resource::*]", "X-Ray PutTraceSegments and PutTelemetryRecords support no resource."),
        )
        steps = RetrainingSteps(
            self,
            settings,
            PipelineResources(
                pipeline_name=self.pipeline_name,
                endpoint_name=self.endpoint_name,
                model_package_group=self.model_package_group.model_package_group_name,
                region=self.config.region,
                image=image,
                bundle=bundle,
                prepare_job=prepare_job,
                training_role=self.training_role,
                work_url=foundation.curated.url(WORK_PREFIX),
                key=foundation.key,
                alert_topic=foundation.alert_topic_for(self),
                model_cleanup=self.model_cleanup,
                model_promotion=self.model_promotion,
                manual_approval=self.manual_approval,
            ),
        )
        self.state_machine = self._state_machine(foundation, steps.definition())
        self._allow_tuning_and_registry(steps)
        self.state_machine.node.add_dependency(self.model_package_group)  # it registers in the group by name
        if self.manual_approval:
            self._deploy_on_approval()
        self._schedule(settings.schedule)
        self._alarm(foundation)

    def _training_role(self, foundation: FoundationStack, image: str, bundle: s3_assets.Asset) -> iam.Role:
        """SageMaker's role for training and serving: the work prefix, the source bundle, the image, the key."""
        role = iam.Role(
            self,
            "TrainingRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker training and serving of the propensity model",
        )
        grant_prefix_read_write(role, foundation.curated, WORK_PREFIX, why="prepared data in, model artefacts out")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[bundle.bucket.arn_for_objects(bundle.s3_object_key)]
            )
        )
        registry_account = image.split(".", 1)[0]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=[f"arn:aws:ecr:{self.config.region}:{registry_account}:repository/sagemaker-xgboost"],
            )
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
        sagemaker_logs = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], resources=[sagemaker_logs]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}},
            )
        )
        # The model output and the training volumes are encrypted with the platform key; SageMaker
        # describes the key before using it.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[foundation.key.key_arn],
            )
        )
        # SageMaker creates a grant on the key for the training volume it attaches: only grants for an
        # AWS resource, so the role cannot hand the key to any other principal.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[foundation.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        acknowledge_grant_policy(role)
        acknowledge(
            role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited to "
                "SageMaker's namespace) have no resource-level permissions.",
            ),
            (
                wildcard_resource_finding(self, sagemaker_logs),
                "SageMaker names each job's log streams under /aws/sagemaker/.",
            ),
        )
        return role

    def _state_machine(self, foundation: FoundationStack, definition: sfn.IChainable) -> sfn.StateMachine:
        """The pipeline: encrypted, traced and logged without execution data; its role's extra grants."""
        state_machine_logs = encrypted_log_group(
            self, "PipelineLogs", config=self.config, encryption_key=foundation.key
        )
        state_machine = sfn.StateMachine(
            self,
            "RetrainingPipeline",
            state_machine_name=self.pipeline_name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.hours(6),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=state_machine_logs, level=sfn.LogLevel.ALL, include_execution_data=False),
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(foundation.key),
        )
        # The pipeline passes the training role to SageMaker only (training job, model): never to another service.
        state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        acknowledge_grant_policy(state_machine.role)
        per_execution = (
            "Each execution creates its own tuning job (and the tuner its training jobs), model and endpoint "
            "config, named propensity-<run>."
        )
        sagemaker_names = {
            "training-job": f"{cleanup.ARTEFACT_PREFIX}*",
            "hyper-parameter-tuning-job": f"{cleanup.ARTEFACT_PREFIX}*",
            "model": f"{cleanup.ARTEFACT_PREFIX}*",
            "endpoint-config": f"{cleanup.ARTEFACT_PREFIX}*",
        }
        group = self.model_package_group.model_package_group_name
        acknowledge(
            state_machine.role,
            *(
                (
                    wildcard_resource_finding(
                        self, self.format_arn(service="sagemaker", resource=resource, resource_name=name)
                    ),
                    per_execution,
                )
                for resource, name in sagemaker_names.items()
            ),
            (
                wildcard_resource_finding(
                    self, self.format_arn(service="sagemaker", resource="model-package", resource_name=f"{group}/*")
                ),
                "The versions of this pipeline's model package group only: each run registers a new version.",
            ),
            (
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray tracing, CloudWatch Logs delivery, sagemaker:ListEndpoints (the pipeline finds its endpoint "
                "by name) and sagemaker:ListModelPackages (it finds the champion) have no resource-level "
                "permissions.",
            ),
        )
        # The alert topic is encrypted with the platform key: SNS uses it on the pipeline's behalf, and only SNS.
        state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[foundation.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.config.region}.amazonaws.com"}},
            )
        )
        return state_machine

    def _model_registry(self) -> sagemaker.CfnModelPackageGroup:
        """The model package group every trained model is registered in (tagged with the stack's tags).

        A group has no encryption setting of its own: what it holds is metadata (status, metrics, the
        decision) and the artefact's location; the artefacts are encrypted with the platform key by training.
        CloudFormation cannot delete a group that still holds versions: where the stack is destroyed, delete
        the model packages first (docs/platform-engineer.md).
        """
        group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=self.config.resource_name("propensity"),
            model_package_group_description=(
                "Propensity models, one version per retraining run: Approved (served), PendingManualApproval, "
                "or Rejected with the reason"
            ),
        )
        group.apply_removal_policy(self.stateful_removal_policy)
        return group

    def _allow_tuning_and_registry(self, steps: RetrainingSteps) -> None:
        """What the tuning state needs (CDK writes no policy for a state it has no task for), scoped to this
        pipeline's names; the registry calls are granted by their tasks."""
        tuning_jobs = self.format_arn(
            service="sagemaker", resource="hyper-parameter-tuning-job", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        training_jobs = self.format_arn(
            service="sagemaker", resource="training-job", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        for actions, resources in (
            (
                [
                    "sagemaker:CreateHyperParameterTuningJob",
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:StopHyperParameterTuningJob",
                    "sagemaker:AddTags",
                ],
                [tuning_jobs],
            ),
            # Stopping a tuning job (the run timed out or was stopped) stops its training jobs.
            (["sagemaker:ListTags"], [tuning_jobs, training_jobs]),
            # The .sync integration learns that the job ended from this managed rule, which it creates once.
            (
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                [
                    self.format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerTuningJobsRule",
                    )
                ],
            ),
        ):
            self.state_machine.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))

    def _deploy_on_approval(self) -> None:
        """Approving a model package (console, CLI or API) starts the pipeline with the package to deploy."""
        rule = events.Rule(
            self,
            "DeployOnApproval",
            description="Deploys a propensity model package when it is approved",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [self.model_package_group.model_package_group_name],
                    "ModelApprovalStatus": [promotion.APPROVED],
                },
            ),
        )
        role = iam.Role(
            self,
            "DeployOnApprovalRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Starts the propensity pipeline with an approved model package",
        )
        acknowledge_grant_policy(role)
        rule.add_target(
            targets.SfnStateMachine(
                self.state_machine,
                role=role,
                input=events.RuleTargetInput.from_object(
                    {"approved_package": events.EventField.from_path("$.detail.ModelPackageArn")}
                ),
                retry_attempts=4,
                max_event_age=Duration.hours(2),
            )
        )

    def _prepare_job(self, foundation: FoundationStack) -> glue.CfnJob:
        prepare = GlueJobRole(
            self,
            "Prepare",
            name=self.config.resource_name("propensity-glue-security"),
            description="Propensity data preparation: read labelled data, write train/validation sets",
            key=foundation.key,
        )
        grant_prefix_read(prepare.role, foundation.raw, SOURCE_PREFIX, why="the labelled training table")
        grant_prefix_read_write(
            prepare.role, foundation.curated, WORK_PREFIX, why="the prepared train and validation sets"
        )
        script = s3_assets.Asset(self, "PrepareScript", path=str(PREPARE_SCRIPT))
        prepare.read_code(script.bucket.arn_for_objects(script.s3_object_key))
        return glue.CfnJob(
            self,
            "PrepareTrainingData",
            name=self.config.resource_name("propensity-prepare"),
            description="Split the labelled propensity data into train and validation sets",
            role=prepare.role.role_arn,
            security_configuration=prepare.security_configuration.ref,
            command=glue.CfnJob.JobCommandProperty(
                name="pythonshell", python_version="3.9", script_location=script.s3_object_url
            ),
            max_capacity=0.0625,
            max_retries=0,
            timeout=30,
            default_arguments={
                "--source_path": foundation.raw.url(SOURCE_PREFIX),
                "--target": TARGET_COLUMN,
                "--drop": LEAKING_COLUMNS,
                # What the eligibility service sends the endpoint: the model must be trained on it.
                "--required_columns": ",".join(("product", *MODEL_ATTRIBUTES)),
            },
        )

    def _cleanup_function(self, foundation: FoundationStack) -> None:
        """The pipeline's last step: remove older runs' models and endpoint configs (never what the endpoint uses)."""
        self.model_cleanup = PlatformFunction(
            self,
            "ModelCleanup",
            config=self.config,
            handler=cleanup.MODEL_CLEANUP_HANDLER,
            description="Removes the propensity models and endpoint configs of older retraining runs",
            service=cleanup.MODEL_CLEANUP_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=120,
            environment={
                cleanup.ENV_PIPELINE: self.pipeline_name,
                cleanup.ENV_ENDPOINT: self.endpoint_name,
                cleanup.ENV_KEEP: str(self.config.environment.propensity.keep_models),
            },
        )
        role = self.model_cleanup.role
        models = self.format_arn(service="sagemaker", resource="model", resource_name=f"{cleanup.ARTEFACT_PREFIX}*")
        configs = self.format_arn(
            service="sagemaker", resource="endpoint-config", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        endpoint = self.format_arn(service="sagemaker", resource="endpoint", resource_name=self.endpoint_name)
        for actions, resources in (
            (["sagemaker:ListModels", "sagemaker:ListEndpointConfigs"], ["*"]),
            (["sagemaker:ListTags"], [models, configs]),
            (["sagemaker:DescribeEndpoint"], [endpoint]),
            (["sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig"], [configs]),
            (["sagemaker:DeleteModel"], [models]),
        ):
            role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
        pipeline_made = "The pipeline names each run's model and endpoint config propensity-<execution>."
        acknowledge(
            role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "sagemaker:ListModels and ListEndpointConfigs, X-Ray PutTraceSegments and PutTelemetryRecords "
                "support no resource-level permissions.",
            ),
            (wildcard_resource_finding(self, models), pipeline_made),
            (wildcard_resource_finding(self, configs), pipeline_made),
        )

    def _schedule(self, expression: str) -> None:
        role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="Starts the propensity retraining pipeline on its schedule",
        )
        self.state_machine.grant_start_execution(role)
        acknowledge_grant_policy(role)
        scheduler.CfnSchedule(
            self,
            "RetrainingSchedule",
            name=self.config.resource_name("propensity-retraining"),
            description="Retrains the propensity model (propensity.schedule in config)",
            schedule_expression=expression,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.state_machine.state_machine_arn, role_arn=role.role_arn
            ),
        )

    def _alarm(self, foundation: FoundationStack) -> None:
        """Failed (including gated out by AUC), timed out or aborted retraining alerts the platform team."""
        state_machine = self.state_machine
        alarm_at_or_above(
            self,
            foundation.alert_topic_for(self),
            (
                Watch(construct_id, metric(period=Duration.minutes(5)), 1, f"Propensity retraining {what}")
                for construct_id, metric, what in (
                    ("RetrainingFailed", state_machine.metric_failed, "failed or was gated out (AUC below threshold)"),
                    ("RetrainingTimedOut", state_machine.metric_timed_out, "timed out"),
                    ("RetrainingAborted", state_machine.metric_aborted, "was aborted"),
                )
            ),
        )
