"""`omni plan` against stacks deployed in moto's CloudFormation from an earlier stage's templates.

moto's CloudFormation provisions the resources of a template it creates a stack from,
and cannot provision these templates (types it does not model, such as the Connect
instance and Glue tables; IAM policies whose references it cannot resolve). `omni plan`
reads only what CloudFormation keeps of a stack (its name, status and template), so
`deployed_templates` has moto keep the stacks and their templates exactly as submitted
and record each resource without provisioning it: the API the plan calls (DescribeStacks,
GetTemplate, GetCallerIdentity) is moto's own.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from infra.assembly import CloudAssembly
from infra.config import read_cdk_json_context
from infra.deployed import DeployedStacksError, parse_template_body, read_deployed_stacks
from infra.plan import DeployedStack, changed_paths, plan_upgrade
from infra.platform_app import synthesize
from omni_cli.main import main

REGION = "eu-west-2"  # dev's region in cdk.json
PREFIX = "omni-cx-dev-"
CUSTOMER_TABLE = ("omni-cx-dev-customer-domain", "AWS::DynamoDB::Table")


@pytest.fixture(scope="module")
def dev3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("plan-dev-3")
    synthesize("dev", 3, str(outdir))
    return outdir


@pytest.fixture(scope="module")
def dev4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("plan-dev-4")
    synthesize("dev", 4, str(outdir))
    return outdir


class _Recorded:
    """A resource moto's CloudFormation records without provisioning it."""

    def __init__(self, logical_id: str) -> None:
        self.physical_resource_id = logical_id

    def get_cfn_attribute(self, attribute: str) -> str:
        return f"{self.physical_resource_id}.{attribute}"

    def is_created(self) -> bool:
        return True


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's CloudFormation keeping templates as submitted; the CDK bootstrap's version parameter in place."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with (
        mock_aws(),
        mock.patch(
            "moto.cloudformation.parsing.parse_and_create_resource",
            lambda logical_id, *_args, **_kwargs: _Recorded(logical_id),
        ),
        mock.patch("moto.cloudformation.parsing.ResourceMap.validate_outputs", return_value=None),
    ):
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
        )
        yield boto3.client("cloudformation", region_name=REGION)


def deploy(cloudformation: Any, templates: Mapping[str, Mapping[str, Any]], *, as_yaml: bool = False) -> None:
    for name, template in templates.items():
        body = yaml.safe_dump(dict(template)) if as_yaml else json.dumps(template)
        cloudformation.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])


def templates(outdir: Path) -> dict[str, dict[str, Any]]:
    return copy.deepcopy(CloudAssembly.read(outdir).templates)


def resource_of(template: Mapping[str, Any], resource_type: str) -> str:
    return next(i for i, r in template["Resources"].items() if r["Type"] == resource_type)


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["plan", "--env", "dev", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


# -- against moto-deployed stacks ------------------------------------------------------------------


def test_planning_stage_4_over_deployed_stage_3_is_safe_and_lists_the_new_stacks(
    account: Any, dev3: Path, dev4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(account, templates(dev3))
    code, plan = plan_json(capsys, "--to-stage", "4")  # synthesizes stage 4 itself, as a person runs it
    assert code == 0
    assert plan["safe"] is True
    assert plan["target"] == "stage 4 Orchestrated"
    actions = {stack["name"]: stack["action"] for stack in plan["stacks"]}
    stage3, stage4 = set(templates(dev3)), set(templates(dev4))
    assert {name for name, action in actions.items() if action == "create"} == stage4 - stage3
    assert {name for name, action in actions.items() if action in {"update", "unchanged"}} == stage3
    propensity = next(stack for stack in plan["stacks"] if stack["name"] == "omni-cx-dev-propensity")
    assert {r["logical_id"] for r in propensity["resources"]["added"]} == set(
        templates(dev4)["omni-cx-dev-propensity"]["Resources"]
    )


def test_the_deployed_templates_read_back_equal_their_synthesis(
    account: Any, dev3: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = templates(dev3)
    foundation = "omni-cx-dev-foundation"
    deploy(account, {foundation: deployed.pop(foundation)}, as_yaml=True)  # a YAML body comes back as a string
    deploy(account, deployed)
    code, plan = plan_json(capsys, "--assembly", str(dev3))
    assert code == 0
    assert plan["summary"] == {"create": 0, "update": 0, "unchanged": len(templates(dev3)), "not-in-app": 0}


def test_a_planted_key_schema_change_on_a_deployed_table_is_unsafe(
    account: Any, dev3: Path, dev4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the customer table was deployed with another key than the target has
    deployed = templates(dev3)
    stack, table_type = CUSTOMER_TABLE
    table = resource_of(deployed[stack], table_type)
    deployed[stack]["Resources"][table]["Properties"]["KeySchema"] = [{"AttributeName": "id", "KeyType": "HASH"}]
    deploy(account, deployed)
    # When stage 4 is planned
    assert main(["plan", "--env", "dev", "--assembly", str(dev4)]) == 1
    out = capsys.readouterr().out
    # Then the table's change and the verdict name it
    assert f"~ {table}  AWS::DynamoDB::Table  (KeySchema)" in out
    assert "verdict: UNSAFE, 1 problem(s)" in out
    assert f"{stack}/{table}: KeySchema changed, which replaces the AWS::DynamoDB::Table" in out


def test_a_stateful_resource_the_target_drops_is_unsafe(
    account: Any, dev3: Path, dev4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(account, templates(dev3))
    # the target assembly, with the customer table gone from its stack
    target = tmp_path / "cdk.out"
    shutil.copytree(dev4, target)
    assembly = CloudAssembly.read(target)
    stack, table_type = CUSTOMER_TABLE
    template = assembly.template(stack)
    table = resource_of(template, table_type)
    del template["Resources"][table]
    (target / assembly.stack(stack).template_file).write_text(json.dumps(template))
    code, plan = plan_json(capsys, "--assembly", str(target))
    assert code == 1
    domain = next(s for s in plan["stacks"] if s["name"] == stack)
    assert domain["action"] == "update"
    assert domain["resources"]["removed"] == [{"logical_id": table, "type": "AWS::DynamoDB::Table"}]
    assert plan["violations"] == [f"{stack}/{table}: AWS::DynamoDB::Table removed"]


def test_stacks_in_the_account_but_not_in_the_app_are_reported_and_others_left_out(
    account: Any, dev3: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    deploy(account, templates(dev3))
    # a stage-5 stack left from an earlier rollout, another environment's stack and the CDK's own
    deploy(account, {"omni-cx-dev-state-fanout": small, "omni-cx-prod-foundation": small, "CDKToolkit": small})
    code, plan = plan_json(capsys, "--assembly", str(dev3))
    assert code == 0  # the deploy leaves the stack alone: drift in the stage set, nothing lost
    assert [(s["name"], s["action"]) for s in plan["stacks"] if s["action"] == "not-in-app"] == [
        ("omni-cx-dev-state-fanout", "not-in-app")
    ]
    names = {s["name"] for s in plan["stacks"]}
    assert "omni-cx-prod-foundation" not in names
    assert "CDKToolkit" not in names
    main(["plan", "--env", "dev", "--assembly", str(dev3)])
    line = next(line for line in capsys.readouterr().out.splitlines() if "omni-cx-dev-state-fanout" in line)
    assert line.endswith("in the account only (CREATE_COMPLETE): not in the app at this stage; the deploy leaves it")


def test_the_json_plan_has_its_documented_shape(
    account: Any, dev3: Path, dev4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(account, templates(dev3))
    code, plan = plan_json(capsys, "--assembly", str(dev4))
    assert code == 0
    assert set(plan) == {
        "schema",
        "project",
        "env",
        "region",
        "account",
        "target",
        "safe",
        "summary",
        "stacks",
        "violations",
    }
    assert (plan["schema"], plan["project"], plan["env"], plan["region"]) == ("omni-plan/1", "omni-cx", "dev", REGION)
    assert plan["account"] == "123456789012"  # moto's account, from GetCallerIdentity
    for stack in plan["stacks"]:
        assert set(stack) == {"name", "action", "deployed_status", "resources", "sections_changed", "violations"}
        assert set(stack["resources"]) == {"added", "changed", "removed"}
    foundation = next(s for s in plan["stacks"] if s["name"] == "omni-cx-dev-foundation")
    assert foundation["deployed_status"] == "CREATE_COMPLETE"
    assert all(
        set(change) == {"logical_id", "type", "properties", "attributes"}
        for change in foundation["resources"]["changed"]
    )
    assert sum(plan["summary"].values()) == len(plan["stacks"])


# -- errors: exit code 2 with one line ---------------------------------------------------------------


def test_no_credentials_is_one_line_naming_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["plan", "--env", "dev", "--to-stage", "4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni plan: error: no AWS credentials to find the account of the credentials")
    assert "AWS_PROFILE" in err
    assert err.count("\n") == 1


def test_credentials_of_another_account_than_the_environment_s_stop_the_plan(
    account: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    context = copy.deepcopy(read_cdk_json_context())
    context["omni:environments"]["dev"]["account"] = "111122223333"
    monkeypatch.setattr("infra.config.read_cdk_json_context", lambda: context)
    assert main(["plan", "--env", "dev", "--to-stage", "4"]) == 2
    assert capsys.readouterr().err == (
        "omni plan: error: the credentials are for account 123456789012, environment dev is account "
        "111122223333: use a profile of that account\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa"], "env = 'qa': unknown environment; allowed: dev, prod"),
        (["--to-stage", "7"], "--to-stage '7': must be one of 1 Disjointed, 2 Consistent"),
        (["--to-stage", "four"], "--to-stage 'four': must be one of"),
    ],
)
def test_an_unknown_environment_or_stage_is_named(
    account: Any, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", *(["--env", "dev"] if "--env" not in args else []), *args]) == 2
    assert message in capsys.readouterr().err


def test_an_assembly_of_another_environment_is_refused(
    account: Any, dev3: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--env", "prod", "--assembly", str(dev3)]) == 2
    assert "no stack named omni-cx-prod-*" in capsys.readouterr().err


# -- the account adapter --------------------------------------------------------------------------


def _stubbed_cloudformation() -> tuple[Any, Stubber]:
    client = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def _summary(name: str, **extra: str) -> dict[str, Any]:
    return {
        "StackName": name,
        "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/1",
        "StackStatus": "UPDATE_COMPLETE",
        "CreationTime": "2025-01-01T00:00:00Z",
        **extra,
    }


def test_nested_stacks_and_a_longer_environment_s_stacks_are_not_the_environment_s() -> None:
    client, stubber = _stubbed_cloudformation()
    stacks = [
        _summary("omni-cx-dev-foundation"),
        _summary("omni-cx-dev-foundation-NestedStack-1A2B", ParentId="arn:parent"),
        _summary("omni-cx-dev-eu-foundation"),
    ]
    stubber.add_response("describe_stacks", {"Stacks": stacks})
    stubber.add_response("get_template", {"TemplateBody": '{"Resources": {}}'})
    with stubber:
        found = read_deployed_stacks(client, prefix=PREFIX, other_prefixes=["omni-cx-dev-", "omni-cx-dev-eu-"])
    assert list(found) == ["omni-cx-dev-foundation"]
    assert found["omni-cx-dev-foundation"].status == "UPDATE_COMPLETE"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", "access denied trying to read the stacks (cloudformation:DescribeStacks): the role needs"),
        ("ExpiredToken", "the AWS credentials were refused (ExpiredToken) trying to read the stacks"),
        ("Throttling", "could not read the stacks (cloudformation:DescribeStacks): Throttling: "),
    ],
)
def test_an_account_that_refuses_is_one_line(code: str, expected: str) -> None:
    client, stubber = _stubbed_cloudformation()
    stubber.add_client_error("describe_stacks", service_error_code=code)
    with stubber, pytest.raises(DeployedStacksError) as raised:
        read_deployed_stacks(client, prefix=PREFIX)
    assert str(raised.value).startswith(expected)


def test_a_yaml_template_with_short_tags_is_read_in_long_form() -> None:
    body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Ref AWS::StackName\n"
    assert parse_template_body(body, stack="s") == {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "AWS::StackName"}}}}
    }
    with pytest.raises(DeployedStacksError, match="s: its deployed template is not an object"):
        parse_template_body("[1, 2]", stack="s")


# -- the plan over templates -----------------------------------------------------------------------


def _plan(deployed: Mapping[str, DeployedStack], target: Mapping[str, Any]) -> Any:
    return plan_upgrade(
        deployed, target, project="omni-cx", env="dev", region=REGION, account=None, target_label="stage 4"
    )


QUEUE: dict[str, Any] = {
    "Type": "AWS::SQS::Queue",
    "Properties": {"VisibilityTimeout": 30, "Tags": [{"Key": "a", "Value": "b"}]},
}


def test_a_stack_still_deploying_blocks_the_plan_and_a_failed_creation_is_created_again() -> None:
    template = {"Resources": {"Queue": QUEUE}}
    busy = _plan({"s": DeployedStack("s", "UPDATE_IN_PROGRESS", template)}, {"s": template})
    assert busy.violations == ["s: stack is UPDATE_IN_PROGRESS; a deploy cannot start until it settles"]
    failed = _plan({"s": DeployedStack("s", "ROLLBACK_COMPLETE", template)}, {"s": template})
    assert failed.safe
    assert [(stack.action, len(stack.added)) for stack in failed.stacks] == [("create", 1)]


def test_changed_properties_are_named_by_path_and_attributes_apart() -> None:
    changed = copy.deepcopy(QUEUE)
    changed["Properties"]["VisibilityTimeout"] = 60
    changed["Properties"]["Tags"].append({"Key": "c", "Value": "d"})
    changed["DeletionPolicy"] = "Retain"
    plan = _plan(
        {"s": DeployedStack("s", "CREATE_COMPLETE", {"Resources": {"Queue": QUEUE}})},
        {"s": {"Resources": {"Queue": changed}}},
    )
    (stack,) = plan.stacks
    assert stack.action == "update"
    assert [(c.logical_id, c.properties, c.attributes) for c in stack.changed] == [
        ("Queue", ("Tags", "VisibilityTimeout"), ("DeletionPolicy",))
    ]
    assert plan.safe  # a stronger deletion policy and in-place updates replace nothing
    # an intrinsic is compared whole, at its own path
    assert changed_paths({"A": {"B": {"Ref": "X"}}}, {"A": {"B": {"Ref": "Y"}}}) == [("A", "B")]
