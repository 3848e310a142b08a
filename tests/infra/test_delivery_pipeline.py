"""The delivery pipeline: synth step with the tests and cfn-lint, a wave per environment in order, `omni plan`
before each deploy, a person's approval before prod, cross-account deploy roles; off unless configured."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.capabilities import capabilities_deployed
from infra.config import ConfigError, config_for, read_cdk_json_context
from infra.delivery_pipeline import create_pipeline_app

from .conftest import CONNECTION_SOURCE, PIPELINE_ACCOUNT, PROD_ACCOUNT, Synthesis, pipeline_context

PIPELINE_STACK = "omni-cx-delivery"


def _pipeline(synthesis: Synthesis) -> dict[str, Any]:
    resources = synthesis.templates[PIPELINE_STACK]["Resources"]
    return next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::CodePipeline::Pipeline")


def _stage(synthesis: Synthesis, name: str) -> list[dict[str, Any]]:
    return next(stage["Actions"] for stage in _pipeline(synthesis)["Stages"] if stage["Name"] == name)


def _buildspec(synthesis: Synthesis, action: dict[str, Any]) -> dict[str, Any]:
    """The build spec of the CodeBuild project a pipeline action runs."""
    project_id = action["Configuration"]["ProjectName"]["Ref"]
    project = synthesis.templates[PIPELINE_STACK]["Resources"][project_id]["Properties"]
    return json.loads(project["Source"]["BuildSpec"])


def _commands(buildspec: dict[str, Any]) -> list[str]:
    return [command for phase in buildspec["phases"].values() for command in phase.get("commands", [])]


def _deploy_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]


def test_the_pipeline_synthesizes(delivery_pipeline: Synthesis) -> None:
    assert delivery_pipeline.error is None, delivery_pipeline.error
    assert PIPELINE_STACK in delivery_pipeline.templates


def test_source_then_synth_then_self_mutation_then_a_wave_per_environment_in_order(
    delivery_pipeline: Synthesis,
) -> None:
    names = [stage["Name"] for stage in _pipeline(delivery_pipeline)["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "prod"]
    (source,) = _stage(delivery_pipeline, "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == CONNECTION_SOURCE["repository"]
    assert source["Configuration"]["ConnectionArn"] == CONNECTION_SOURCE["connection_arn"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_wave_deploys_the_environments_stacks_at_its_configured_maturity(
    delivery_pipeline: Synthesis, env: str
) -> None:
    config = config_for(env)
    expected = {config.resource_name(capability.name) for capability in capabilities_deployed(config)}
    deployed = {a["Configuration"]["StackName"] for a in _deploy_actions(_stage(delivery_pipeline, env))}
    assert deployed == expected


def test_the_synth_step_runs_the_tests_synthesizes_the_pipeline_app_and_lints_every_template(
    delivery_pipeline: Synthesis,
) -> None:
    (synth,) = _stage(delivery_pipeline, "Build")
    commands = _commands(_buildspec(delivery_pipeline, synth))
    assert commands[:2] == ["make install", "make test"]
    assert any("cdk" in c and "synth" in c and "pipeline_app.py" in c for c in commands)
    lint = next(c for c in commands if "cfn-lint" in c)
    assert "cdk.out/**/*.template.json" in lint
    assert commands.index(lint) > next(i for i, c in enumerate(commands) if "synth" in c)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_omni_plan_runs_before_the_environments_deploy_and_its_exit_code_stops_it(
    delivery_pipeline: Synthesis, env: str
) -> None:
    actions = _stage(delivery_pipeline, env)
    plan = next(a for a in actions if a["Name"] == f"Plan-{env}")
    assert plan["RunOrder"] < min(a["RunOrder"] for a in _deploy_actions(actions))
    commands = _commands(_buildspec(delivery_pipeline, plan))
    stage = config_for(env).maturity.value
    # A plain command: CodeBuild fails the step on a non-zero exit (1 unsafe, 2 error), so the deploy never starts.
    assert f"AWS_PROFILE=target .venv/bin/omni plan --env {env} --to-stage {stage}" in commands


def test_prod_waits_for_a_person_after_its_plan_and_dev_does_not(delivery_pipeline: Synthesis) -> None:
    prod = _stage(delivery_pipeline, "prod")
    approvals = [a for a in prod if a["ActionTypeId"]["Category"] == "Approval"]
    assert [a["Name"] for a in approvals] == ["Approve-prod"]
    plan = next(a for a in prod if a["Name"] == "Plan-prod")
    assert plan["RunOrder"] < approvals[0]["RunOrder"] < min(a["RunOrder"] for a in _deploy_actions(prod))
    assert not [a for a in _stage(delivery_pipeline, "dev") if a["ActionTypeId"]["Category"] == "Approval"]


def _role_arn(action: dict[str, Any]) -> str:
    return json.dumps(action["RoleArn"])


def test_an_environment_in_another_account_deploys_through_that_accounts_bootstrap_roles(
    delivery_pipeline: Synthesis,
) -> None:
    for env, account in (("prod", PROD_ACCOUNT), ("dev", PIPELINE_ACCOUNT)):
        for action in _deploy_actions(_stage(delivery_pipeline, env)):
            assert f"{account}:role/cdk-hnb659fds-deploy-role-{account}-eu-west-2" in _role_arn(action)
    # The artifacts are encrypted with a key the prod account's roles may use (cross-account keys).
    resources = delivery_pipeline.templates[PIPELINE_STACK]["Resources"]
    key_policy = json.dumps(next(r for r in resources.values() if r["Type"] == "AWS::KMS::Key")["Properties"])
    assert PROD_ACCOUNT in key_policy


def test_the_plan_step_may_only_assume_the_read_only_lookup_role_of_its_environments_account(
    delivery_pipeline: Synthesis,
) -> None:
    resources = delivery_pipeline.templates[PIPELINE_STACK]["Resources"]
    for env, account in (("prod", PROD_ACCOUNT), ("dev", PIPELINE_ACCOUNT)):
        plan = next(a for a in _stage(delivery_pipeline, env) if a["Name"] == f"Plan-{env}")
        project = resources[plan["Configuration"]["ProjectName"]["Ref"]]["Properties"]
        role_id = project["ServiceRole"]["Fn::GetAtt"][0]
        policy = next(
            r["Properties"]["PolicyDocument"]
            for r in resources.values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
        )
        assume = [s for s in policy["Statement"] if s["Action"] == "sts:AssumeRole"]
        assert len(assume) == 1
        assert f"iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-eu-west-2" in json.dumps(assume[0])


def test_an_s3_source_reads_the_object_on_change(delivery_pipeline_s3: Synthesis) -> None:
    assert delivery_pipeline_s3.error is None, delivery_pipeline_s3.error
    (source,) = _stage(delivery_pipeline_s3, "Source")
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"] == {
        "S3Bucket": "example-omni-cx-source",
        "S3ObjectKey": "omni-cx/source.zip",
        "PollForSourceChanges": False,
    }


def test_the_pipeline_is_off_unless_cdk_json_enables_it(tmp_path: Any) -> None:
    # cdk.json as shipped: no pipeline.
    with pytest.raises(ConfigError, match=r"omni:pipeline\.enabled is false"):
        create_pipeline_app(outdir=str(tmp_path), context=read_cdk_json_context())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": {"kind": "connection", "repository": "example/omni-cx"}}, "needs repository .* connection_arn"),
        ({"source": {"kind": "s3"}}, "an s3 source needs bucket"),
        ({"account": None}, "account: the pipeline's AWS account id is needed"),
        ({"environments": ["dev", "qa"], "approval_before": []}, r"omni:pipeline\.environments: qa not in"),
        ({"approval_before": ["staging"]}, "approval_before: staging not in environments"),
        ({"sorce": {}}, r"omni:pipeline\.sorce: unknown key; allowed keys: account, approval_before"),
    ],
)
def test_an_incomplete_pipeline_configuration_is_one_line_naming_the_key(
    tmp_path: Any, change: dict[str, Any], message: str
) -> None:
    context = copy.deepcopy(pipeline_context(CONNECTION_SOURCE))
    context["omni:pipeline"].update(change)
    with pytest.raises(ConfigError, match=message):
        create_pipeline_app(outdir=str(tmp_path), context=context)
