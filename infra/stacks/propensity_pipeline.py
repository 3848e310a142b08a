"""The retraining pipeline's states, built one named step at a time for `PropensityStack`.

A scheduled run: prepare the data -> find the champion (the newest approved model package) ->
tune (SageMaker automatic model tuning over `propensity.search_space`, the champion given to every
training job as its `champion` channel) -> read the best training job -> decide (champion/challenger,
`model_promotion`) -> register the challenger in the model package group with the decision ->
deploy it (approved), or tell the team it awaits approval, or that the champion was kept, or fail
(under the AUC floor). A run started with `{"approved_package": <ARN>}` (the approval rule, or a
person) deploys that package. Deploying: create the model and endpoint config -> create or update the
endpoint -> wait until it serves -> remove older runs' artefacts.

Every Task retries its integration's transient errors and sends anything else down the one failure
path (`state_machine_failures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.config import PropensityConfig
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.state_machine_failures import ALERT_TRANSIENT, FAILURE_PATH, alert_then_fail, guard
from model_cleanup import constants as cleanup
from model_promotion import constants as promotion
from propensity.search_space import OBJECTIVE_METRIC, OBJECTIVE_TYPE, parameter_ranges

# Script-mode entry points at the bundle's root (so `propensity` is importable beside them).
TRAINING_ENTRY = "propensity_training_entry.py"
SERVING_ENTRY = "propensity_serving_entry.py"
AUC_METRIC = promotion.CHALLENGER_AUC
# train.py prints `validation:auc=<value>;`; SageMaker turns it into the job's final metric.
AUC_METRIC_REGEX = r"validation:auc=([0-9.]+);"
# Every metric the pipeline reads: the tuner's objective, the calibrated score's Brier score, the champion's AUC
# on the same holdout (only when a champion was given).
METRIC_DEFINITIONS = {
    AUC_METRIC: AUC_METRIC_REGEX,
    promotion.CHALLENGER_BRIER: r"validation:brier=([0-9.]+);",
    promotion.CHAMPION_AUC: r"champion:auc=([0-9.]+);",
}
TUNING_SEED = 7  # the tuner's own random seed: the same data and settings search the same way
TRAINING_VOLUME_GB = 10
TARGET_COLUMN = "y"
WORK_PREFIX = "propensity/"

# Errors a Task retries: throttling and transient service faults, as Step Functions names them per integration.
# Optimised integrations (glue:startJobRun.sync, sagemaker:createHyperParameterTuningJob.sync) name the SDK's base
# exception;
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


# A package's artefact, from its one container: ArrayGetItem of a wildcard path, which every JSONPath
# implementation answers as a list (an index path's value is a scalar in some and a list in others).
_PACKAGE_MODEL_DATA = sfn.JsonPath.array_get_item(
    sfn.JsonPath.list_at("$.InferenceSpecification.Containers[*].ModelDataUrl"), 0
)


@dataclass(frozen=True)
class PipelineResources:
    """What the states use, made by the stack."""

    pipeline_name: str
    endpoint_name: str
    model_package_group: str
    region: str
    image: str
    bundle: s3_assets.Asset
    prepare_job: glue.CfnJob
    training_role: iam.Role
    work_url: str  # s3://<curated bucket>/propensity/
    key: kms.IKey
    alert_topic: sns.ITopic
    model_cleanup: PlatformFunction
    model_promotion: PlatformFunction
    manual_approval: bool


class RetrainingSteps:
    """Builds the pipeline's states in `stack`; `definition()` chains them."""

    def __init__(self, stack: Stack, settings: PropensityConfig, resources: PipelineResources) -> None:
        if OBJECTIVE_METRIC != AUC_METRIC:
            raise ValueError(f"the tuner maximises {OBJECTIVE_METRIC}, the pipeline gates on {AUC_METRIC}")
        self._stack = stack
        self._settings = settings
        self._r = resources
        # Every artefact of one execution lives under runs/<execution name>/ and is named after it.
        self._run = sfn.JsonPath.execution_name
        self._name = sfn.JsonPath.format(f"{cleanup.ARTEFACT_PREFIX}{{}}", self._run)
        self._model_arns = self._sagemaker_arn("model", f"{cleanup.ARTEFACT_PREFIX}*")
        self._config_arns = self._sagemaker_arn("endpoint-config", f"{cleanup.ARTEFACT_PREFIX}*")
        self._endpoint_arn = self._sagemaker_arn("endpoint", resources.endpoint_name)
        # The group's versioned packages are model-package/<group>/<version>.
        self.package_arns = self._sagemaker_arn("model-package", f"{resources.model_package_group}/*")
        self.group_arn = self._sagemaker_arn("model-package-group", resources.model_package_group)
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
        remove_old = self._remove_old_models()
        serving = self._await_endpoint(then=remove_old)
        deploy = self._deploy(then=serving)
        has_champion, channels_ready = self._champion_channels()
        retrain = self._prepare().next(self._find_champion()).next(has_champion)
        (
            channels_ready.next(self._name_the_run())
            .next(self._tune())
            .next(self._read_best_job())
            .next(self._decide())
            .next(self._register())
            .next(self._promote(deploy))
        )
        return (
            sfn.Choice(self._stack, "ApprovedOrScheduled")
            .when(sfn.Condition.is_present("$.approved_package"), self._approved_package().next(deploy))
            .otherwise(retrain)
        )

    def _sagemaker_arn(self, resource: str, name: str) -> str:
        return self._stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _guarded(self, task: sfn.TaskStateBase | sfn.CustomState, transient: tuple[str, ...]) -> None:
        guard(task, transient, self._failed)

    def _failure(self, construct_id: str, error: str, cause: str) -> sfn.Pass:
        """A check of the run that failed: its error and cause on the failure path."""
        state = sfn.Pass(
            self._stack, construct_id, parameters={"Error": error, "Cause": cause}, result_path=FAILURE_PATH
        )
        state.next(self._failed)
        return state

    def _sagemaker_call(self, construct_id: str, **props: Any) -> tasks.CallAwsService:
        task = tasks.CallAwsService(self._stack, construct_id, service="sagemaker", **props)
        self._guarded(task, SAGEMAKER_SDK_TRANSIENT)
        return task

    def _notify(self, construct_id: str, subject: str, what: str) -> tasks.SnsPublish:
        """Tell the team what the run decided and why (both AUCs are in the reason), with the model package."""
        notice = tasks.SnsPublish(
            self._stack,
            construct_id,
            topic=self._r.alert_topic,
            subject=subject,
            message=sfn.TaskInput.from_text(
                sfn.JsonPath.format(
                    f"Propensity retraining {self._r.pipeline_name} run {{}} {what}: {{}} (model package {{}})",
                    self._run,
                    sfn.JsonPath.string_at("$.decision.reason"),
                    sfn.JsonPath.string_at("$.registered.package"),
                )
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        self._guarded(notice, ALERT_TRANSIENT)
        return notice

    # ---- a scheduled run: prepare, find the champion, tune, decide, register ------------------------------

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

    def _find_champion(self) -> tasks.CallAwsService:
        """The champion is the group's newest approved model package (none on a first run)."""
        return self._sagemaker_call(
            "FindChampion",
            action="listModelPackages",
            iam_resources=["*"],  # ListModelPackages has no resource-level permissions
            iam_action="sagemaker:ListModelPackages",
            parameters={
                "ModelPackageGroupName": self._r.model_package_group,
                "ModelApprovalStatus": promotion.APPROVED,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 1,
            },
            result_selector={"packages": sfn.JsonPath.list_at("$.ModelPackageSummaryList[*].ModelPackageArn")},
            result_path="$.champion",
        )

    def _channel(self, name: str, location: str, content_type: str | None) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": location,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
        if content_type:
            channel["ContentType"] = content_type
        return channel

    def _champion_channels(self) -> tuple[sfn.Choice, sfn.Pass]:
        """The training jobs' channels: the prepared sets, and the champion's model.tar.gz when there is one."""
        data = [
            self._channel(
                channel, sfn.JsonPath.format(f"{self._r.work_url}runs/{{}}/data/{channel}/", self._run), "text/csv"
            )
            for channel in ("train", "validation")
        ]
        describe = self._sagemaker_call(
            "DescribeChampion",
            action="describeModelPackage",
            iam_resources=[self.package_arns],
            parameters={"ModelPackageName": sfn.JsonPath.string_at("$.champion.packages[0]")},
            result_selector={"model_data": _PACKAGE_MODEL_DATA},
            result_path="$.champion_model",
        )
        with_champion = sfn.Pass(
            self._stack,
            "WithChampion",
            parameters={
                "channels": [
                    *data,
                    self._channel("champion", sfn.JsonPath.string_at("$.champion_model.model_data"), None),
                ]
            },
            result_path="$.tuning_input",
        )
        first_model = sfn.Pass(self._stack, "FirstModel", parameters={"channels": data}, result_path="$.tuning_input")
        ready = sfn.Pass(self._stack, "ChannelsReady")
        describe.next(with_champion).next(ready)
        first_model.next(ready)
        choice = (
            sfn.Choice(self._stack, "HasChampion")
            .when(sfn.Condition.is_present("$.champion.packages[0]"), describe)
            .otherwise(first_model)
        )
        return choice, ready

    def _name_the_run(self) -> sfn.Pass:
        """Tuning job names are at most 32 characters (execution names up to 80): a short name, fixed once per
        run so a retried create finds its own job rather than starting a second one."""
        return sfn.Pass(
            self._stack,
            "NameTheTuningJob",
            parameters={
                "tuning_job": sfn.JsonPath.format(
                    f"{cleanup.ARTEFACT_PREFIX}{{}}",
                    sfn.JsonPath.array_get_item(sfn.JsonPath.string_split(sfn.JsonPath.uuid(), "-"), 4),
                )
            },
            result_path="$.run",
        )

    def _tune(self) -> sfn.CustomState:
        """SageMaker automatic model tuning over the search space, maximising validation:auc; each training job
        runs the project's train.py in script mode, encrypted with the platform key. CDK has no tuning task:
        the optimised integration is written out, its permissions granted by the stack."""
        settings, r, work = self._settings, self._r, self._r.work_url
        tune = sfn.CustomState(
            self._stack,
            "TuneModel",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createHyperParameterTuningJob.sync",
                "Parameters": {
                    "HyperParameterTuningJobName.$": "$.run.tuning_job",
                    "HyperParameterTuningJobConfig": {
                        "Strategy": "Bayesian",
                        "RandomSeed": TUNING_SEED,
                        "HyperParameterTuningJobObjective": {"Type": OBJECTIVE_TYPE, "MetricName": OBJECTIVE_METRIC},
                        "ResourceLimits": {
                            "MaxNumberOfTrainingJobs": settings.tuning_max_jobs,
                            "MaxParallelTrainingJobs": settings.tuning_parallel_jobs,
                            "MaxRuntimeInSeconds": settings.tuning_minutes * 60,
                        },
                        "ParameterRanges": parameter_ranges(),
                        # train.py stops each job early on its validation channel itself.
                        "TrainingJobEarlyStoppingType": "Off",
                    },
                    "TrainingJobDefinition": {
                        "AlgorithmSpecification": {
                            "TrainingImage": r.image,
                            "TrainingInputMode": "File",
                            "MetricDefinitions": [
                                {"Name": name, "Regex": regex} for name, regex in METRIC_DEFINITIONS.items()
                            ],
                        },
                        "RoleArn": r.training_role.role_arn,
                        "StaticHyperParameters": {
                            "sagemaker_program": TRAINING_ENTRY,
                            "sagemaker_submit_directory": r.bundle.s3_object_url,
                            "sagemaker_region": r.region,
                            "target": TARGET_COLUMN,
                        },
                        "InputDataConfig.$": "$.tuning_input.channels",
                        "OutputDataConfig": {
                            "S3OutputPath.$": f"States.Format('{work}runs/{{}}/model/', $$.Execution.Name)",
                            "KmsKeyId": r.key.key_arn,
                        },
                        "ResourceConfig": {
                            "InstanceCount": 1,
                            "InstanceType": settings.training_instance_type,
                            "VolumeSizeInGB": TRAINING_VOLUME_GB,
                            "VolumeKmsKeyId": r.key.key_arn,
                        },
                        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_training_minutes * 60},
                    },
                    "Tags": self._tags,
                },
                "ResultSelector": {"best.$": "$.BestTrainingJob.TrainingJobName"},
                "ResultPath": "$.tuning",
            },
        )
        self._guarded(tune, SAGEMAKER_JOB_TRANSIENT)
        return tune

    def _read_best_job(self) -> tasks.CallAwsService:
        """The best training job's metrics (challenger, Brier, champion on the same holdout) and artefact."""
        return self._sagemaker_call(
            "DescribeBestTrainingJob",
            action="describeTrainingJob",
            iam_resources=[self._sagemaker_arn("training-job", f"{cleanup.ARTEFACT_PREFIX}*")],
            parameters={"TrainingJobName": sfn.JsonPath.string_at("$.tuning.best")},
            result_selector={
                "job": sfn.JsonPath.string_at("$.TrainingJobName"),
                "metrics": sfn.JsonPath.list_at("$.FinalMetricDataList"),
                "model_data": sfn.JsonPath.string_at("$.ModelArtifacts.S3ModelArtifacts"),
            },
            result_path="$.training",
        )

    def _decide(self) -> tasks.LambdaInvoke:
        settings = self._settings
        decide = tasks.LambdaInvoke(
            self._stack,
            "DecidePromotion",
            lambda_function=self._r.model_promotion.alias,
            payload=sfn.TaskInput.from_object(
                {
                    "metrics": sfn.JsonPath.list_at("$.training.metrics"),
                    "champions": sfn.JsonPath.list_at("$.champion.packages"),
                    "training_job": sfn.JsonPath.string_at("$.training.job"),
                    "floor": settings.auc_threshold,
                    "margin": settings.promotion_margin,
                    "manual_approval": self._r.manual_approval,
                }
            ),
            retry_on_service_exceptions=False,  # retried below, with jitter
            result_selector={
                "outcome": sfn.JsonPath.string_at("$.Payload.outcome"),
                "status": sfn.JsonPath.string_at("$.Payload.status"),
                "reason": sfn.JsonPath.string_at("$.Payload.reason"),
                "metadata": sfn.JsonPath.object_at("$.Payload.metadata"),
            },
            result_path="$.decision",
        )
        self._guarded(decide, LAMBDA_TRANSIENT)
        return decide

    def _container(self, model_data: str) -> dict[str, Any]:
        """The serving container: the built-in image running the project's inference.py on the model's artefact."""
        r = self._r
        return {
            "Image": r.image,
            "ModelDataUrl": model_data,
            "Environment": {
                "SAGEMAKER_PROGRAM": SERVING_ENTRY,
                "SAGEMAKER_SUBMIT_DIRECTORY": r.bundle.s3_object_url,
                "SAGEMAKER_REGION": r.region,
            },
        }

    def _register(self) -> tasks.CallAwsService:
        """Every challenger becomes a version in the model package group, with its status and the decision."""
        return self._sagemaker_call(
            "RegisterModel",
            action="createModelPackage",
            iam_resources=[self.package_arns, self.group_arn],
            additional_iam_statements=[
                iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=[self.package_arns, self.group_arn])
            ],
            parameters={
                "ModelPackageGroupName": self._r.model_package_group,
                "ModelPackageDescription": sfn.JsonPath.string_at("$.decision.reason"),
                "ModelApprovalStatus": sfn.JsonPath.string_at("$.decision.status"),
                "InferenceSpecification": {
                    "Containers": [self._container(sfn.JsonPath.string_at("$.training.model_data"))],
                    "SupportedContentTypes": ["application/json"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
                "CustomerMetadataProperties": sfn.JsonPath.object_at("$.decision.metadata"),
                # A retried call registers the same version once.
                "ClientToken": sfn.JsonPath.string_at("$.run.tuning_job"),
                "Tags": self._tags,
            },
            result_selector={"package": sfn.JsonPath.string_at("$.ModelPackageArn")},
            result_path="$.registered",
        )

    def _promote(self, deploy: sfn.IChainable) -> sfn.Choice:
        new_model = sfn.Pass(
            self._stack,
            "ServeChallenger",
            parameters={
                "package": sfn.JsonPath.string_at("$.registered.package"),
                "model_data": sfn.JsonPath.string_at("$.training.model_data"),
            },
            result_path="$.deploy",
        )
        new_model.next(deploy)
        awaiting = self._notify("AskForApproval", "Propensity model awaits approval", "registered a better model")
        awaiting.next(sfn.Succeed(self._stack, "AwaitingApproval"))
        kept = self._notify("ReportChampionKept", "Propensity champion kept", "kept the approved model")
        kept.next(sfn.Succeed(self._stack, "ChampionKept"))
        below = sfn.Pass(
            self._stack,
            "BelowThreshold",
            parameters={"Error": "ModelBelowThreshold", "Cause": sfn.JsonPath.string_at("$.decision.reason")},
            result_path=FAILURE_PATH,
        )
        below.next(self._failed)
        return (
            sfn.Choice(self._stack, "Promotion")
            .when(sfn.Condition.string_equals("$.decision.outcome", promotion.DEPLOY), new_model)
            .when(sfn.Condition.string_equals("$.decision.outcome", promotion.AWAIT_APPROVAL), awaiting)
            .when(sfn.Condition.string_equals("$.decision.outcome", promotion.KEEP_CHAMPION), kept)
            .otherwise(below)
        )

    # ---- deploying a model package ------------------------------------------------------------------------

    def _approved_package(self) -> tasks.CallAwsService:
        """A run started by an approval: deploy the approved package's artefact."""
        return self._sagemaker_call(
            "DescribeApprovedPackage",
            action="describeModelPackage",
            iam_resources=[self.package_arns],
            parameters={"ModelPackageName": sfn.JsonPath.string_at("$.approved_package")},
            result_selector={
                "package": sfn.JsonPath.string_at("$.ModelPackageArn"),
                "model_data": _PACKAGE_MODEL_DATA,
            },
            result_path="$.deploy",
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
                "PrimaryContainer": self._container(sfn.JsonPath.string_at("$.deploy.model_data")),
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
