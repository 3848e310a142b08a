"""The retraining pipeline's states, built one named step at a time for `PropensityStack`.

prepare -> train -> gate on AUC -> create the model and endpoint config -> create or update the
endpoint -> wait until it serves -> remove older runs' artefacts. Every Task retries its integration's
transient errors and sends anything else down the one failure path (`state_machine_failures`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.config import PropensityConfig
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.state_machine_failures import FAILURE_PATH, alert_then_fail, guard
from model_cleanup import constants as cleanup

# Script-mode entry points at the bundle's root (so `propensity` is importable beside them).
TRAINING_ENTRY = "propensity_training_entry.py"
SERVING_ENTRY = "propensity_serving_entry.py"
AUC_METRIC = "validation:auc"
# train.py prints `validation:auc=<value>;`; SageMaker turns it into the job's final metric.
AUC_METRIC_REGEX = r"validation:auc=([0-9.]+);"
TARGET_COLUMN = "y"
WORK_PREFIX = "propensity/"

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


@dataclass(frozen=True)
class PipelineResources:
    """What the states use, made by the stack."""

    pipeline_name: str
    endpoint_name: str
    region: str
    image: str
    bundle: s3_assets.Asset
    prepare_job: glue.CfnJob
    training_role: iam.Role
    work_url: str  # s3://<curated bucket>/propensity/
    key: kms.IKey
    alert_topic: sns.ITopic
    model_cleanup: PlatformFunction


class RetrainingSteps:
    """Builds the pipeline's states in `stack`; `definition()` chains them."""

    def __init__(self, stack: Stack, settings: PropensityConfig, resources: PipelineResources) -> None:
        self._stack = stack
        self._settings = settings
        self._r = resources
        # Every artefact of one execution lives under runs/<execution name>/ and is named after it.
        self._run = sfn.JsonPath.execution_name
        self._name = sfn.JsonPath.format(f"{cleanup.ARTEFACT_PREFIX}{{}}", self._run)
        self._model_arns = stack.format_arn(
            service="sagemaker", resource="model", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        self._config_arns = stack.format_arn(
            service="sagemaker", resource="endpoint-config", resource_name=f"{cleanup.ARTEFACT_PREFIX}*"
        )
        self._endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=resources.endpoint_name
        )
        # Tagged with the pipeline's name: the clean-up removes only what this environment's pipeline made.
        self._tags = [{"Key": cleanup.PIPELINE_TAG, "Value": resources.pipeline_name}]
        self._failed = alert_then_fail(
            stack,
            topic=resources.alert_topic,
            subject="Propensity retraining failed",
            message=f"Propensity retraining {resources.pipeline_name} run {{}} failed with {{}}: {{}}",
            fail_id="RunFailed",
            error=FAILED_ERROR,
        )

    def definition(self) -> sfn.IChainable:
        prepare = self._prepare()
        train = self._train()
        remove_old = self._remove_old_models()
        serving = self._await_endpoint(then=remove_old)
        deploy = self._deploy(then=serving)
        return prepare.next(train).next(self._gate(deploy))

    def _guarded(self, task: sfn.TaskStateBase, transient: tuple[str, ...]) -> sfn.TaskStateBase:
        return guard(task, transient, self._failed)

    def _failure(self, construct_id: str, error: str, cause: str) -> sfn.Pass:
        """A check of the run that failed: its error and cause on the failure path."""
        state = sfn.Pass(
            self._stack, construct_id, parameters={"Error": error, "Cause": cause}, result_path=FAILURE_PATH
        )
        state.next(self._failed)
        return state

    def _sagemaker_call(self, construct_id: str, **props: object) -> tasks.CallAwsService:
        task = tasks.CallAwsService(self._stack, construct_id, service="sagemaker", **props)  # type: ignore[arg-type]
        self._guarded(task, SAGEMAKER_SDK_TRANSIENT)
        return task

    def _prepare(self) -> tasks.GlueStartJobRun:
        prepare = tasks.GlueStartJobRun(
            self._stack,
            "PrepareData",
            glue_job_name=self._r.prepare_job.name or "",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_object(
                {"--output_path": sfn.JsonPath.format(f"{self._r.work_url}runs/{{}}/data/", self._run)}
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        self._guarded(prepare, GLUE_TRANSIENT)
        return prepare

    def _train(self) -> tasks.SageMakerCreateTrainingJob:
        settings, work, run = self._settings, self._r.work_url, self._run
        train = tasks.SageMakerCreateTrainingJob(
            self._stack,
            "TrainModel",
            training_job_name=self._name,
            # CDK would add s3:GetObject/ListBucket/PutObject on "*" to a role it may update, because
            # the locations are only known at run time; the role's prefix grants already cover them.
            role=self._r.training_role.without_policy_updates(),
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(self._r.image),
                training_input_mode=tasks.InputMode.FILE,
                metric_definitions=[tasks.MetricDefinition(name=AUC_METRIC, regex=AUC_METRIC_REGEX)],
            ),
            hyperparameters={
                "sagemaker_program": TRAINING_ENTRY,
                "sagemaker_submit_directory": self._r.bundle.s3_object_url,
                "sagemaker_region": self._r.region,
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
                encryption_key=self._r.key,
            ),
            resource_config=tasks.ResourceConfig(
                instance_count=1,
                instance_type=_instance_type(settings.training_instance_type),
                volume_size=Size.gibibytes(10),
                volume_encryption_key=self._r.key,
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=Duration.minutes(settings.max_training_minutes)),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_selector={
                "auc": sfn.JsonPath.string_at(f"$.FinalMetricDataList[?(@.MetricName == '{AUC_METRIC}')].Value"),
                "model_data": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
            },
            result_path="$.training",
        )
        self._guarded(train, SAGEMAKER_JOB_TRANSIENT)
        return train

    def _gate(self, deploy: sfn.IChainable) -> sfn.Choice:
        threshold = self._settings.auc_threshold
        below = self._failure(
            "BelowThreshold",
            "ModelBelowThreshold",
            f"validation AUC under {threshold} (or not reported): the serving model is unchanged",
        )
        return (
            sfn.Choice(self._stack, "GateOnAuc")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.training.auc[0]"),
                    sfn.Condition.number_greater_than_equals("$.training.auc[0]", threshold),
                ),
                deploy,
            )
            .otherwise(below)
        )

    def _deploy(self, then: sfn.IChainable) -> sfn.IChainable:
        """Create the model and its serverless endpoint config, then create or update the endpoint."""
        settings, r, name = self._settings, self._r, self._name
        create_model = self._sagemaker_call(
            "CreateModel",
            action="createModel",
            iam_resources=[self._model_arns],
            additional_iam_statements=[
                iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[self._model_arns])
            ],
            parameters={
                "ModelName": name,
                "ExecutionRoleArn": r.training_role.role_arn,
                "PrimaryContainer": {
                    "Image": r.image,
                    "ModelDataUrl": sfn.JsonPath.string_at("$.training.model_data"),
                    "Environment": {
                        "SAGEMAKER_PROGRAM": SERVING_ENTRY,
                        "SAGEMAKER_SUBMIT_DIRECTORY": r.bundle.s3_object_url,
                        "SAGEMAKER_REGION": r.region,
                    },
                },
                "Tags": self._tags,
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        endpoint_config = self._sagemaker_call(
            "CreateServerlessEndpointConfig",
            action="createEndpointConfig",
            iam_resources=[self._config_arns],
            additional_iam_statements=[
                iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[self._config_arns])
            ],
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
                "Tags": self._tags,
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        # Listing, not describing: a missing endpoint is an empty list rather than an error that a retry of
        # throttling would also catch, so "create" is never taken because a lookup was throttled.
        find = self._sagemaker_call(
            "FindEndpoint",
            action="listEndpoints",
            iam_resources=["*"],
            parameters={"NameContains": r.endpoint_name, "MaxResults": 100},
            result_selector={"names": sfn.JsonPath.list_at("$.Endpoints[*].EndpointName")},
            result_path="$.endpoint",
        )
        exists = sfn.Pass(
            self._stack,
            "CheckEndpoint",
            parameters={
                "exists": sfn.JsonPath.array_contains(sfn.JsonPath.list_at("$.endpoint.names"), r.endpoint_name)
            },
            result_path="$.endpoint",
        )
        update, create = (
            self._sagemaker_call(
                construct_id,
                action=action,
                iam_resources=[self._endpoint_arn, self._config_arns],
                parameters={"EndpointName": r.endpoint_name, "EndpointConfigName": name},
                result_path=sfn.JsonPath.DISCARD,
            )
            for construct_id, action in (("UpdateEndpoint", "updateEndpoint"), ("CreateEndpoint", "createEndpoint"))
        )
        update.next(then)
        create.next(then)
        return (
            create_model.next(endpoint_config)
            .next(find)
            .next(exists)
            .next(
                sfn.Choice(self._stack, "CreateOrUpdateEndpoint")
                .when(sfn.Condition.boolean_equals("$.endpoint.exists", True), update)
                .otherwise(create)
            )
        )

    def _await_endpoint(self, then: sfn.IChainable) -> sfn.IChainable:
        """Creating or updating an endpoint only starts it: wait until it serves the new model, or fail
        (and alert) when SageMaker gives up, so a model that cannot load never passes silently."""
        settle = sfn.Wait(self._stack, "LetEndpointSettle", time=sfn.WaitTime.duration(Duration.minutes(1)))
        status = self._sagemaker_call(
            "EndpointStatus",
            action="describeEndpoint",
            iam_resources=[self._endpoint_arn],
            parameters={"EndpointName": self._r.endpoint_name},
            result_selector={"status": sfn.JsonPath.string_at("$.EndpointStatus")},
            result_path="$.endpoint",
        )
        endpoint_failed = self._failure(
            "EndpointFailed", "EndpointFailed", "the endpoint did not reach InService with the new model"
        )
        settle.next(status).next(
            sfn.Choice(self._stack, "EndpointInService")
            .when(sfn.Condition.string_equals("$.endpoint.status", "InService"), then)
            .when(sfn.Condition.string_equals("$.endpoint.status", "Failed"), endpoint_failed)
            .otherwise(settle)
        )
        return settle

    def _remove_old_models(self) -> sfn.IChainable:
        remove_old = tasks.LambdaInvoke(
            self._stack,
            "RemoveOldModels",
            lambda_function=self._r.model_cleanup.alias,
            payload=sfn.TaskInput.from_object({"execution": self._run}),
            retry_on_service_exceptions=False,  # retried below, with jitter
            result_selector={"removed": sfn.JsonPath.list_at("$.Payload.removed")},
            result_path="$.cleanup",
        )
        self._guarded(remove_old, LAMBDA_TRANSIENT)
        remove_old.next(sfn.Succeed(self._stack, "Serving"))
        return remove_old


def _instance_type(name: str) -> ec2.InstanceType:
    return ec2.InstanceType(name.removeprefix("ml."))
