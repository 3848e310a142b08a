"""Stage 4 propensity model: scheduled retraining on SageMaker, gated on AUC, served serverless.

A Step Functions state machine runs, on the schedule in config:
1. prepare: a Glue Python shell job splits the labelled data under the raw
   lake's `propensity/` prefix into train and validation sets (leakage dropped);
2. train: a SageMaker training job on the built-in XGBoost image of the region
   (account from the registries file; no SageMaker SDK at synthesis), running
   the project's own `propensity/train.py` in script mode from a reproducible
   source bundle; output and volumes encrypted with the platform key;
3. gate: the job's `validation:auc` metric must reach `propensity.auc_threshold`,
   or the execution fails (and alarms) leaving the serving model untouched;
4. create the model (the same bundle serves `propensity/inference.py`), a
   serverless endpoint config, then create or update the endpoint and wait until
   it serves the new model;
5. remove the models and endpoint configs of older runs, keeping the newest
   `propensity.keep_models` runs' and whatever the endpoint uses (a function
   running `model_cleanup`, which `omni propensity cleanup` also runs by hand).

Every Task retries throttling and transient service errors with exponential
backoff and full jitter; any error it does not recover from, an AUC under the
threshold, or an endpoint that fails, takes the failure path: a message naming
the error to the platform team's alert topic, then a Fail state carrying it.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import ArnFormat, Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from eligibility.attributes import MODEL_ATTRIBUTES
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy, wildcard_resource_finding
from infra.constructs.glue_job_role import GlueJobRole
from infra.constructs.lake_access import grant_prefix_read, grant_prefix_read_write
from infra.constructs.log_group import encrypted_log_group
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.source_bundle import deterministic_tar_gz
from infra.constructs.state_machine_failures import FAILURE_PATH, alert_then_fail, guard
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from model_cleanup import constants as cleanup

REPOSITORY = Path(__file__).resolve().parents[2]
REGISTRIES = Path(__file__).resolve().parents[1] / "data" / "sagemaker_xgboost_registries.json"
TRAINING_SOURCE = REPOSITORY / "sagemaker"
PREPARE_SCRIPT = REPOSITORY / "glue_jobs" / "propensity_prepare.py"
SOURCE_PREFIX = "propensity/"
WORK_PREFIX = "propensity/"
# Script-mode entry points at the bundle's root (so `propensity` is importable beside them).
TRAINING_ENTRY = "propensity_training_entry.py"
SERVING_ENTRY = "propensity_serving_entry.py"
AUC_METRIC = "validation:auc"
# train.py prints `validation:auc=<value>;`; SageMaker turns it into the job's final metric.
AUC_METRIC_REGEX = r"validation:auc=([0-9.]+);"
TARGET_COLUMN = "y"
LEAKING_COLUMNS = "duration"  # known only after the outcome: never a feature
# The xgboost each built-in image installs (aws/sagemaker-xgboost-container, docker/<version>/base/Dockerfile.cpu,
# XGBOOST_VERSION): the tests train with exactly this one (pyproject.toml), so they train what SageMaker trains.
XGBOOST_OF_IMAGE = {"3.0-5": "3.0.5"}

# Errors a Task retries: throttling and transient service faults, as Step Functions names them per integration.
# Optimised integrations (glue:startJobRun.sync, sagemaker:createTrainingJob.sync) name the SDK's base exception;
# AWS SDK integrations (aws-sdk:sagemaker:*) name SageMaker's unmodelled errors, throttling among them,
# SageMakerException. A job that ran and failed (States.TaskFailed) is not retried: it would fail again, at cost.
GLUE_TRANSIENT = (
    "Glue.AWSGlueException",
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.OperationTimeoutException",
)
SAGEMAKER_JOB_TRANSIENT = ("SageMaker.AmazonSageMakerException",)
SAGEMAKER_SDK_TRANSIENT = ("SageMaker.SageMakerException",)
LAMBDA_TRANSIENT = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
FAILED_ERROR = "RetrainingFailed"  # the error of every failed run; its cause starts with what went wrong


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
        image = xgboost_image(self.config.region, settings.xgboost_version)
        bundle = s3_assets.Asset(self, "TrainingSource", path=str(deterministic_tar_gz(TRAINING_SOURCE)))
        prepare_job = self._prepare_job(foundation)

        self.training_role = iam.Role(
            self,
            "TrainingRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker training and serving of the propensity model",
        )
        grant_prefix_read_write(
            self.training_role, foundation.curated, WORK_PREFIX, why="prepared data in, model artefacts out"
        )
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[bundle.bucket.arn_for_objects(bundle.s3_object_key)]
            )
        )
        registry_account = image.split(".", 1)[0]
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                resources=[f"arn:aws:ecr:{self.config.region}:{registry_account}:repository/sagemaker-xgboost"],
            )
        )
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        sagemaker_logs = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], resources=[sagemaker_logs]
            )
        )
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}},
            )
        )
        # The model output and the training volumes are encrypted with the platform key; SageMaker
        # describes the key before using it.
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[foundation.key.key_arn],
            )
        )
        # SageMaker creates a grant on the key for the training volume it attaches: only grants for an
        # AWS resource, so the role cannot hand the key to any other principal.
        self.training_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[foundation.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        acknowledge_grant_policy(self.training_role)
        acknowledge(
            self.training_role,
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

        self.pipeline_name = self.config.resource_name(cleanup.PIPELINE_SUFFIX)
        self._cleanup_function(foundation)
        definition = self._definition(foundation, prepare_job, image, bundle)
        state_machine_logs = encrypted_log_group(
            self, "PipelineLogs", config=self.config, encryption_key=foundation.key
        )
        self.state_machine = sfn.StateMachine(
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
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.training_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        acknowledge_grant_policy(self.state_machine.role)
        per_execution = (
            "Each execution creates its own training job, model and endpoint config, named propensity-<execution>."
        )
        acknowledge(
            self.state_machine.role,
            (
                wildcard_resource_finding(
                    self, self.format_arn(service="sagemaker", resource="training-job", resource_name="*")
                ),
                per_execution,
            ),
            (
                wildcard_resource_finding(
                    self, self.format_arn(service="sagemaker", resource="model", resource_name="propensity-*")
                ),
                per_execution,
            ),
            (
                wildcard_resource_finding(
                    self, self.format_arn(service="sagemaker", resource="endpoint-config", resource_name="propensity-*")
                ),
                per_execution,
            ),
            (
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray tracing, CloudWatch Logs delivery and sagemaker:ListEndpoints (the pipeline finds its "
                "endpoint by name) have no resource-level permissions.",
            ),
        )
        # The alert topic is encrypted with the platform key: SNS uses it on the pipeline's behalf, and only SNS.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[foundation.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.config.region}.amazonaws.com"}},
            )
        )
        self._schedule(settings.schedule)
        self._alarm(foundation)

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

    def _definition(
        self, foundation: FoundationStack, prepare_job: glue.CfnJob, image: str, bundle: s3_assets.Asset
    ) -> sfn.IChainable:
        settings = self.config.environment.propensity
        # Every artefact of one execution lives under runs/<execution name>/ and is named after it.
        run = sfn.JsonPath.execution_name
        name = sfn.JsonPath.format(f"{cleanup.ARTEFACT_PREFIX}{{}}", run)
        work = foundation.curated.url(WORK_PREFIX)
        failed = alert_then_fail(
            self,
            topic=foundation.alert_topic_for(self),
            subject="Propensity retraining failed",
            message=f"Propensity retraining {self.pipeline_name} run {{}} failed with {{}}: {{}}",
            fail_id="RunFailed",
            error=FAILED_ERROR,
        )

        def guarded(task: sfn.TaskStateBase, transient: tuple[str, ...]) -> sfn.TaskStateBase:
            return guard(task, transient, failed)

        def failure(construct_id: str, error: str, cause: str) -> sfn.Pass:
            return sfn.Pass(self, construct_id, parameters={"Error": error, "Cause": cause}, result_path=FAILURE_PATH)

        prepare = tasks.GlueStartJobRun(
            self,
            "PrepareData",
            glue_job_name=prepare_job.name or "",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_object({"--output_path": sfn.JsonPath.format(f"{work}runs/{{}}/data/", run)}),
            result_path=sfn.JsonPath.DISCARD,
        )
        train = tasks.SageMakerCreateTrainingJob(
            self,
            "TrainModel",
            training_job_name=name,
            # CDK would add s3:GetObject/ListBucket/PutObject on "*" to a role it may update, because
            # the locations are only known at run time; the role's prefix grants already cover them.
            role=self.training_role.without_policy_updates(),
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(image),
                training_input_mode=tasks.InputMode.FILE,
                metric_definitions=[tasks.MetricDefinition(name=AUC_METRIC, regex=AUC_METRIC_REGEX)],
            ),
            hyperparameters={
                "sagemaker_program": TRAINING_ENTRY,
                "sagemaker_submit_directory": bundle.s3_object_url,
                "sagemaker_region": self.config.region,
                "target": TARGET_COLUMN,
            },
            input_data_config=[
                tasks.Channel(
                    channel_name=channel,
                    data_source=tasks.DataSource(
                        s3_data_source=tasks.S3DataSource(
                            s3_location=tasks.S3Location.from_json_expression(
                                sfn.JsonPath.format(f"{work}runs/{{}}/data/{channel}/", run)
                            ),
                            s3_data_type=tasks.S3DataType.S3_PREFIX,
                        )
                    ),
                    content_type="text/csv",
                )
                for channel in ("train", "validation")
            ],
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=tasks.S3Location.from_json_expression(
                    sfn.JsonPath.format(f"{work}runs/{{}}/model/", run)
                ),
                encryption_key=foundation.key,
            ),
            resource_config=tasks.ResourceConfig(
                instance_count=1,
                instance_type=_instance_type(settings.training_instance_type),
                volume_size=Size.gibibytes(10),
                volume_encryption_key=foundation.key,
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=Duration.minutes(settings.max_training_minutes)),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_selector={
                "auc": sfn.JsonPath.string_at(f"$.FinalMetricDataList[?(@.MetricName == '{AUC_METRIC}')].Value"),
                "model_data": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
            },
            result_path="$.training",
        )
        below = failure(
            "BelowThreshold",
            "ModelBelowThreshold",
            f"validation AUC under {settings.auc_threshold} (or not reported): the serving model is unchanged",
        )
        model_arns = self.format_arn(service="sagemaker", resource="model", resource_name=f"{cleanup.ARTEFACT_PREFIX}*")
        config_arns = self.format_arn(
            service="sagemaker", resource="endpoint-config", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        # Tagged with the pipeline's name: the clean-up removes only what this environment's pipeline made.
        tags = [{"Key": cleanup.PIPELINE_TAG, "Value": self.pipeline_name}]
        create_model = tasks.CallAwsService(
            self,
            "CreateModel",
            service="sagemaker",
            action="createModel",
            iam_resources=[model_arns],
            additional_iam_statements=[iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[model_arns])],
            parameters={
                "ModelName": name,
                "ExecutionRoleArn": self.training_role.role_arn,
                "PrimaryContainer": {
                    "Image": image,
                    "ModelDataUrl": sfn.JsonPath.string_at("$.training.model_data"),
                    "Environment": {
                        "SAGEMAKER_PROGRAM": SERVING_ENTRY,
                        "SAGEMAKER_SUBMIT_DIRECTORY": bundle.s3_object_url,
                        "SAGEMAKER_REGION": self.config.region,
                    },
                },
                "Tags": tags,
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        endpoint_config = tasks.CallAwsService(
            self,
            "CreateServerlessEndpointConfig",
            service="sagemaker",
            action="createEndpointConfig",
            iam_resources=[config_arns],
            additional_iam_statements=[iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[config_arns])],
            parameters={
                "EndpointConfigName": name,
                "ProductionVariants": [
                    {
                        "VariantName": "primary",
                        "ModelName": name,
                        "ServerlessConfig": {
                            "MemorySizeInMB": settings.endpoint_memory_mb,
                            "MaxConcurrency": settings.endpoint_max_concurrency,
                        },
                    }
                ],
                "Tags": tags,
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        endpoint_arn = self.format_arn(service="sagemaker", resource="endpoint", resource_name=self.endpoint_name)
        # Listing, not describing: a missing endpoint is an empty list rather than an error that a retry of
        # throttling would also catch, so "create" is never taken because a lookup was throttled.
        find = tasks.CallAwsService(
            self,
            "FindEndpoint",
            service="sagemaker",
            action="listEndpoints",
            iam_resources=["*"],
            parameters={"NameContains": self.endpoint_name, "MaxResults": 100},
            result_selector={"names": sfn.JsonPath.list_at("$.Endpoints[*].EndpointName")},
            result_path="$.endpoint",
        )
        exists = sfn.Pass(
            self,
            "CheckEndpoint",
            parameters={
                "exists": sfn.JsonPath.array_contains(sfn.JsonPath.list_at("$.endpoint.names"), self.endpoint_name)
            },
            result_path="$.endpoint",
        )
        update = tasks.CallAwsService(
            self,
            "UpdateEndpoint",
            service="sagemaker",
            action="updateEndpoint",
            iam_resources=[endpoint_arn, config_arns],
            parameters={"EndpointName": self.endpoint_name, "EndpointConfigName": name},
            result_path=sfn.JsonPath.DISCARD,
        )
        create = tasks.CallAwsService(
            self,
            "CreateEndpoint",
            service="sagemaker",
            action="createEndpoint",
            iam_resources=[endpoint_arn, config_arns],
            parameters={"EndpointName": self.endpoint_name, "EndpointConfigName": name},
            result_path=sfn.JsonPath.DISCARD,
        )
        # Creating or updating an endpoint only starts it: wait until it serves the new model, or fail
        # (and alert) when SageMaker gives up, so a model that cannot load never passes silently.
        settle = sfn.Wait(self, "LetEndpointSettle", time=sfn.WaitTime.duration(Duration.minutes(1)))
        status = tasks.CallAwsService(
            self,
            "EndpointStatus",
            service="sagemaker",
            action="describeEndpoint",
            iam_resources=[endpoint_arn],
            parameters={"EndpointName": self.endpoint_name},
            result_selector={"status": sfn.JsonPath.string_at("$.EndpointStatus")},
            result_path="$.endpoint",
        )
        endpoint_failed = failure(
            "EndpointFailed", "EndpointFailed", "the endpoint did not reach InService with the new model"
        )
        remove_old = tasks.LambdaInvoke(
            self,
            "RemoveOldModels",
            lambda_function=self.model_cleanup.alias,
            payload=sfn.TaskInput.from_object({"execution": run}),
            retry_on_service_exceptions=False,  # retried below, with jitter
            result_selector={"removed": sfn.JsonPath.list_at("$.Payload.removed")},
            result_path="$.cleanup",
        )
        for task in (create_model, endpoint_config, find, update, create, status):
            guarded(task, SAGEMAKER_SDK_TRANSIENT)
        guarded(prepare, GLUE_TRANSIENT)
        guarded(train, SAGEMAKER_JOB_TRANSIENT)
        guarded(remove_old, LAMBDA_TRANSIENT)
        below.next(failed)
        endpoint_failed.next(failed)
        settle.next(status).next(
            sfn.Choice(self, "EndpointInService")
            .when(sfn.Condition.string_equals("$.endpoint.status", "InService"), remove_old)
            .when(sfn.Condition.string_equals("$.endpoint.status", "Failed"), endpoint_failed)
            .otherwise(settle)
        )
        remove_old.next(sfn.Succeed(self, "Serving"))
        update.next(settle)
        create.next(settle)
        deploy = (
            create_model.next(endpoint_config)
            .next(find)
            .next(exists)
            .next(
                sfn.Choice(self, "CreateOrUpdateEndpoint")
                .when(sfn.Condition.boolean_equals("$.endpoint.exists", True), update)
                .otherwise(create)
            )
        )
        gate = (
            sfn.Choice(self, "GateOnAuc")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.training.auc[0]"),
                    sfn.Condition.number_greater_than_equals("$.training.auc[0]", settings.auc_threshold),
                ),
                deploy,
            )
            .otherwise(below)
        )
        return prepare.next(train).next(gate)

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


def _instance_type(name: str) -> ec2.InstanceType:
    return ec2.InstanceType(name.removeprefix("ml."))
