"""Stage-4 propensity: the retraining pipeline's steps, tuning, the model registry and champion/challenger, serverless
serving, schedule and alarms."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.stacks.propensity_stack import AUC_METRIC, AUC_METRIC_REGEX, xgboost_image
from propensity.search_space import SEARCH_SPACE

from .conftest import Synthesis


def _template(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("propensity"))


def _flatten(value: Any) -> str:
    """A definition string with every intrinsic replaced by a marker, so it parses as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    return "TOKEN"


def _definition(synthesis: Synthesis) -> dict[str, Any]:
    (machine,) = _template(synthesis).find_resources("AWS::StepFunctions::StateMachine").values()
    return json.loads(_flatten(machine["Properties"]["DefinitionString"]))


def test_the_xgboost_image_comes_from_the_registries_file() -> None:
    assert xgboost_image("eu-west-2", "3.0-5") == "764974769150.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-xgboost:3.0-5"
    assert xgboost_image("cn-north-1", "1.7-1").endswith(".amazonaws.com.cn/sagemaker-xgboost:1.7-1")
    with pytest.raises(ValueError, match="no SageMaker XGBoost registry known for region xx-east-9"):
        xgboost_image("xx-east-9", "3.0-5")


def test_the_pipeline_prepares_finds_the_champion_tunes_decides_registers_then_serves(dev5: Synthesis) -> None:
    definition = _definition(dev5)
    states = definition["States"]
    assert definition["StartAt"] == "ApprovedOrScheduled"
    (approved,) = states["ApprovedOrScheduled"]["Choices"]
    assert approved == {"Variable": "$.approved_package", "IsPresent": True, "Next": "DescribeApprovedPackage"}
    assert states["ApprovedOrScheduled"]["Default"] == "PrepareData"
    assert states["DescribeApprovedPackage"]["Next"] == "CreateModel"
    assert states["PrepareData"]["Resource"].endswith(":states:::glue:startJobRun.sync")
    chain = ["PrepareData", "FindChampion", "HasChampion"]
    chain_after = ["ChannelsReady", "NameTheTuningJob", "TuneModel", "DescribeBestTrainingJob", "DecidePromotion"]
    for state, following in itertools.pairwise(chain):
        assert states[state]["Next"] == following
    for state, following in itertools.pairwise([*chain_after, "RegisterModel", "Promotion"]):
        assert states[state]["Next"] == following
    # the champion: the group's newest approved version
    assert states["FindChampion"]["Resource"].endswith(":states:::aws-sdk:sagemaker:listModelPackages")
    assert states["FindChampion"]["Parameters"] == {
        "ModelPackageGroupName": "omni-cx-dev-propensity",
        "ModelApprovalStatus": "Approved",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
    assert states["TuneModel"]["Resource"].endswith(":states:::sagemaker:createHyperParameterTuningJob.sync")
    assert states["RegisterModel"]["Resource"].endswith(":states:::aws-sdk:sagemaker:createModelPackage")
    outcomes = {c["StringEquals"]: c["Next"] for c in states["Promotion"]["Choices"]}
    assert outcomes == {
        "deploy": "ServeChallenger",
        "await-approval": "AskForApproval",
        "keep-champion": "ReportChampionKept",
    }
    assert states["Promotion"]["Default"] == "BelowThreshold"
    assert states["BelowThreshold"]["Next"] == "AlertPlatformTeam"
    chain = ["CreateModel", "CreateServerlessEndpointConfig", "FindEndpoint", "CheckEndpoint", "CreateOrUpdateEndpoint"]
    for state, following in itertools.pairwise(chain):
        assert states[state]["Next"] == following
    # the endpoint is looked up by listing (a missing one is no error): it is updated when it exists, else created
    assert states["FindEndpoint"]["Resource"].endswith(":states:::aws-sdk:sagemaker:listEndpoints")
    assert states["CheckEndpoint"]["Parameters"] == {
        "exists.$": "States.ArrayContains($.endpoint.names, 'omni-cx-dev-propensity')"
    }
    (exists,) = states["CreateOrUpdateEndpoint"]["Choices"]
    assert exists == {"Variable": "$.endpoint.exists", "BooleanEquals": True, "Next": "UpdateEndpoint"}
    assert states["CreateOrUpdateEndpoint"]["Default"] == "CreateEndpoint"


def test_the_decision_gets_the_configured_floor_margin_and_approval(dev5: Synthesis, prod5: Synthesis) -> None:
    for synthesis, manual in ((dev5, False), (prod5, True)):
        payload = _definition(synthesis)["States"]["DecidePromotion"]["Parameters"]["Payload"]
        assert (payload["floor"], payload["margin"], payload["manual_approval"]) == (0.78, 0.005, manual)
        assert payload["metrics.$"] == "$.training.metrics"
        assert payload["champions.$"] == "$.champion.packages"


def test_tuning_searches_the_shared_space_for_the_best_validation_auc_within_the_configured_budget(
    dev5: Synthesis,
) -> None:
    tuning = _definition(dev5)["States"]["TuneModel"]["Parameters"]
    config = tuning["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": AUC_METRIC}
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 12,
        "MaxParallelTrainingJobs": 3,
        "MaxRuntimeInSeconds": 4 * 60 * 60,  # 4 rounds of 3 jobs, 60 minutes each at most
    }
    ranges = config["ParameterRanges"]
    searched = {r["Name"] for kind in ("IntegerParameterRanges", "ContinuousParameterRanges") for r in ranges[kind]}
    assert searched == {item.name for item in SEARCH_SPACE}
    assert isinstance(config["RandomSeed"], int)
    job = tuning["TrainingJobDefinition"]
    assert {"Name": AUC_METRIC, "Regex": AUC_METRIC_REGEX} in job["AlgorithmSpecification"]["MetricDefinitions"]
    assert {m["Name"] for m in job["AlgorithmSpecification"]["MetricDefinitions"]} == {
        "validation:auc",
        "validation:brier",
        "champion:auc",
    }
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_training_runs_the_projects_script_on_the_built_in_image_encrypted(dev5: Synthesis) -> None:
    job = _definition(dev5)["States"]["TuneModel"]["Parameters"]["TrainingJobDefinition"]
    assert job["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:3.0-5")
    assert job["StaticHyperParameters"]["sagemaker_program"] == "propensity_training_entry.py"
    (machine,) = _template(dev5).find_resources("AWS::StepFunctions::StateMachine").values()
    # the script-mode source bundle (a gzipped tar; the toolkit opens it as one whatever its name)
    assert '.gz"}' in json.dumps(machine["Properties"]["DefinitionString"])
    assert job["OutputDataConfig"]["KmsKeyId"] == "TOKEN"
    assert job["ResourceConfig"]["VolumeKmsKeyId"] == "TOKEN"
    assert job["InputDataConfig.$"] == "$.tuning_input.channels"


def test_models_are_registered_in_a_tagged_model_package_group_kept_in_production(
    dev5: Synthesis, prod5: Synthesis
) -> None:
    for synthesis, policy in ((dev5, "Delete"), (prod5, "Retain")):
        (group,) = _template(synthesis).find_resources("AWS::SageMaker::ModelPackageGroup").values()
        assert group["Properties"]["ModelPackageGroupName"] == f"omni-cx-{synthesis.env}-propensity"
        tags = {tag["Key"]: tag["Value"] for tag in group["Properties"]["Tags"]}
        assert tags["capability"] == "propensity"
        assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == (policy, policy)


def test_the_pipeline_may_touch_only_its_own_model_packages_and_tuning_jobs(prod5: Synthesis) -> None:
    statements = [
        statement
        for policy in _template(prod5).find_resources("AWS::IAM::Policy").values()
        if "RetrainingPipeline" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    for statement in statements:
        actions = _actions(statement)
        resources = json.dumps(statement["Resource"])
        if any(a in actions for a in ("sagemaker:createModelPackage", "sagemaker:describeModelPackage")):
            assert "model-package/omni-cx-prod-propensity/*" in resources
            assert '"*"' not in resources
        if "sagemaker:CreateHyperParameterTuningJob" in actions:
            assert ":hyper-parameter-tuning-job/propensity-*" in resources
            assert '"*"' not in resources
    wildcard = {a for s in statements if s["Resource"] == "*" for a in _actions(s)}
    assert "sagemaker:ListModelPackages" in wildcard
    assert not {a for a in wildcard if "ModelPackage" in a and a != "sagemaker:ListModelPackages"}


def test_an_approval_deploys_the_package_only_where_approval_is_manual(dev5: Synthesis, prod5: Synthesis) -> None:
    assert not _template(dev5).find_resources("AWS::Events::Rule")
    (rule,) = _template(prod5).find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["omni-cx-prod-propensity"], "ModelApprovalStatus": ["Approved"]},
    }
    (target,) = rule["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"detail-ModelPackageArn": "$.detail.ModelPackageArn"}
    assert json.loads(transformer["InputTemplate"].replace("<detail-ModelPackageArn>", '"arn"')) == {
        "approved_package": "arn"
    }
    assert "RetrainingPipeline" in json.dumps(target["Arn"])


def test_serving_is_a_serverless_endpoint_sized_from_config(prod5: Synthesis) -> None:
    states = _definition(prod5)["States"]
    (variant,) = states["CreateServerlessEndpointConfig"]["Parameters"]["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 10}
    environment = states["CreateModel"]["Parameters"]["PrimaryContainer"]["Environment"]
    assert environment["SAGEMAKER_PROGRAM"] == "propensity_serving_entry.py"
    assert states["UpdateEndpoint"]["Parameters"]["EndpointName"] == "omni-cx-prod-propensity"


def test_retraining_is_scheduled_and_every_failure_alarms(dev5: Synthesis) -> None:
    template = _template(dev5)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(0 3 ? * SUN *)", "FlexibleTimeWindow": {"Mode": "OFF"}}
    )
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
        # the clean-up function's own alarms
        "Errors",
        "Throttles",
    }
    for alarm in alarms.values():
        assert ":omni-cx-dev-alerts" in json.dumps(alarm["Properties"]["AlarmActions"])


def test_the_state_machine_is_encrypted_and_logged(dev5: Synthesis) -> None:
    (machine,) = _template(dev5).find_resources("AWS::StepFunctions::StateMachine").values()
    properties = machine["Properties"]
    assert properties["EncryptionConfiguration"]["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert properties["TracingConfiguration"] == {"Enabled": True}


def test_the_entry_points_exist_at_the_bundle_root() -> None:
    from infra.stacks.propensity_stack import SERVING_ENTRY, TRAINING_ENTRY, TRAINING_SOURCE

    assert (TRAINING_SOURCE / TRAINING_ENTRY).is_file()
    assert (TRAINING_SOURCE / SERVING_ENTRY).is_file()


def test_the_pipeline_trains_only_on_tables_with_the_columns_the_service_sends(dev5: Synthesis) -> None:
    from eligibility.attributes import MODEL_ATTRIBUTES

    (job,) = _template(dev5).find_resources("AWS::Glue::Job").values()
    required = job["Properties"]["DefaultArguments"]["--required_columns"].split(",")
    assert required == ["product", *MODEL_ATTRIBUTES]


def test_the_training_role_has_no_s3_access_beyond_its_prefixes(dev5: Synthesis) -> None:
    statements = [
        statement
        for policy in _template(dev5).find_resources("AWS::IAM::Policy").values()
        if "TrainingRole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    s3_statements = [s for s in statements if "s3:" in json.dumps(s["Action"])]
    assert s3_statements
    for statement in s3_statements:
        assert statement["Resource"] != "*", statement
        assert "*" not in json.dumps(statement["Action"]), statement


def test_the_pipeline_waits_until_the_endpoint_serves_the_new_model(dev5: Synthesis) -> None:
    states = _definition(dev5)["States"]
    assert states["UpdateEndpoint"]["Next"] == "LetEndpointSettle"
    assert states["CreateEndpoint"]["Next"] == "LetEndpointSettle"
    assert states["LetEndpointSettle"]["Next"] == "EndpointStatus"
    choices = {c["StringEquals"]: c["Next"] for c in states["EndpointInService"]["Choices"]}
    assert choices == {"InService": "RemoveOldModels", "Failed": "EndpointFailed"}
    assert states["EndpointInService"]["Default"] == "LetEndpointSettle"
    assert states["RemoveOldModels"]["Next"] == "Serving"
    assert states["EndpointFailed"]["Next"] == "AlertPlatformTeam"


def test_each_run_tags_its_model_and_endpoint_config_with_the_pipeline(dev5: Synthesis) -> None:
    from model_cleanup.constants import PIPELINE_TAG

    states = _definition(dev5)["States"]
    for state in ("CreateModel", "CreateServerlessEndpointConfig"):
        assert states[state]["Parameters"]["Tags"] == [
            {"Key": PIPELINE_TAG, "Value": "omni-cx-dev-propensity-retraining"}
        ]


def test_the_cleanup_function_keeps_the_configured_runs_and_may_delete_only_the_pipelines_artefacts(
    prod5: Synthesis,
) -> None:
    from model_cleanup.constants import ENV_ENDPOINT, ENV_KEEP, ENV_PIPELINE

    template = _template(prod5)
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "model_cleanup.handler.lambda_handler"
    ]
    environment = function["Properties"]["Environment"]["Variables"]
    assert environment[ENV_KEEP] == "3"
    assert environment[ENV_PIPELINE] == "omni-cx-prod-propensity-retraining"
    assert environment[ENV_ENDPOINT] == "omni-cx-prod-propensity"
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "ModelCleanup" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    deletes = [s for s in statements if any("Delete" in action for action in _actions(s))]
    assert deletes
    for statement in deletes:
        assert statement["Resource"] != "*"
        assert "/propensity-*" in json.dumps(statement["Resource"])
    assert {a for s in statements if s["Resource"] == "*" for a in _actions(s)} == {
        "sagemaker:ListModels",
        "sagemaker:ListEndpointConfigs",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_pipeline_may_use_the_platform_key_for_its_alerts_only_through_sns(dev5: Synthesis) -> None:
    statements = [
        statement
        for policy in _template(dev5).find_resources("AWS::IAM::Policy").values()
        if "RetrainingPipeline" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (via_sns,) = [s for s in statements if "Condition" in s and "kms:ViaService" in json.dumps(s["Condition"])]
    assert sorted(_actions(via_sns)) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert via_sns["Condition"] == {"StringEquals": {"kms:ViaService": "sns.eu-west-2.amazonaws.com"}}
