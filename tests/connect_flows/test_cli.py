"""`omni flows ...` end to end: exit codes and messages; deploy, export and render against botocore's Stubber.

moto does not implement the Connect flow APIs, so the Stubber plays the instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import omni_cli.main
from connect_flows.manifest import load_manifest
from connect_flows.render import render
from connect_flows.resources import ResourceMap
from omni_cli import flows as cli

MANIFEST = load_manifest()
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
INSTANCE = f"arn:aws:connect:eu-west-2:111122223333:instance/{INSTANCE_ID}"


def arn(kind: str, number: int) -> str:
    return f"{INSTANCE}/{kind}/{number:08d}-0000-0000-0000-000000000000"


LAMBDAS = [
    "arn:aws:lambda:eu-west-2:111122223333:function:omni-dev-caller-lookup",
    "arn:aws:lambda:eu-west-2:111122223333:function:omni-dev-offer-check",
    "arn:aws:lambda:eu-west-2:111122223333:function:omni-dev-next-action",
]
QUEUES = {"General support": arn("queue", 1), "Retention offers": arn("queue", 2)}
HOURS = {"Business hours": arn("operating-hours", 3)}
OUR_FLOWS = {
    "Customer queue": arn("contact-flow", 4),
    "Agent whisper": arn("contact-flow", 5),
    "Basic inbound": arn("contact-flow", 6),
    "Agent whisper with next best action": arn("contact-flow", 8),
}
OUR_MODULES = {"Caller greeting": arn("flow-module", 10)}
RESOLVER = {
    ("queue", "general_support"): QUEUES["General support"],
    ("queue", "retention_offers"): QUEUES["Retention offers"],
    ("hours", "business_hours"): HOURS["Business hours"],
    ("flow", "customer_queue"): OUR_FLOWS["Customer queue"],
    ("flow", "agent_whisper"): OUR_FLOWS["Agent whisper"],
    ("flow", "basic_inbound"): OUR_FLOWS["Basic inbound"],
    ("lambda", "caller_lookup"): LAMBDAS[0],
    ("flow", "agent_whisper_next_action"): OUR_FLOWS["Agent whisper with next best action"],
    ("lambda", "offer_check"): LAMBDAS[1],
    ("lambda", "next_action"): LAMBDAS[2],
    ("module", "caller_greeting"): OUR_MODULES["Caller greeting"],
}


def summary(name: str, value: str, **extra: str) -> dict[str, str]:
    return {"Id": value.rsplit("/", 1)[1], "Arn": value, "Name": name, **extra}


def expect_listing(
    stubber: Stubber, *, flows: dict[str, str], hours: dict[str, str] = HOURS, modules: dict[str, str] = OUR_MODULES
) -> None:
    """The six paginated list calls, in the order the CLI makes them."""
    instance = {"InstanceId": INSTANCE_ID}
    stubber.add_response(
        "list_queues",
        {"QueueSummaryList": [summary(n, a, QueueType="STANDARD") for n, a in QUEUES.items()]},
        {**instance, "QueueTypes": ["STANDARD"]},
    )
    stubber.add_response(
        "list_hours_of_operations", {"HoursOfOperationSummaryList": [summary(n, a) for n, a in hours.items()]}, instance
    )
    stubber.add_response("list_prompts", {"PromptSummaryList": []}, instance)
    stubber.add_response(
        "list_contact_flows",
        {"ContactFlowSummaryList": [summary(n, a, ContactFlowType="CONTACT_FLOW") for n, a in flows.items()]},
        instance,
    )
    stubber.add_response(
        "list_contact_flow_modules",
        {"ContactFlowModulesSummaryList": [summary(n, a) for n, a in modules.items()]},
        instance,
    )
    stubber.add_response("list_lambda_functions", {"LambdaFunctions": LAMBDAS}, instance)


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("connect", region_name="eu-west-2")
    monkeypatch.setattr(cli, "connect_client", lambda region: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_omni_lists_the_flows_commands() -> None:
    assert "omni_cli.flows" in omni_cli.main.SUBCOMMAND_MODULES


def omni(*argv: str) -> int:
    return omni_cli.main.main(list(argv))


def compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def test_validate_passes_every_repository_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert omni("flows", "validate") == 0
    assert capsys.readouterr().err.strip() == "8 flows: 0 errors, 0 warnings"


def test_validate_fails_with_one_line_per_problem_in_the_service_path_style(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a flow whose welcome message points nowhere
    flow = MANIFEST.load_flow("basic_inbound")
    index = next(i for i, a in enumerate(flow["Actions"]) if a["Identifier"] == "welcome")
    flow["Actions"][index]["Transitions"]["NextAction"] = "nowhere"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(flow))
    # When it is validated, Then it exits 1 with the problem on one line
    assert omni("flows", "validate", str(path)) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{path}: Actions[{index}].Transitions.NextAction: 'nowhere' names no action" in out


def test_validate_reports_a_file_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.json"
    path.write_text("{")
    assert omni("flows", "validate", str(path)) == 1
    assert capsys.readouterr().out.startswith(f"{path}: not valid JSON")


def test_rendered_mode_accepts_a_flow_rendered_for_an_instance(tmp_path: Path) -> None:
    path = tmp_path / "basic.json"
    path.write_text(json.dumps(render(MANIFEST.load_flow("basic_inbound"), RESOLVER)))
    assert omni("flows", "validate", "--rendered", str(path)) == 0
    assert omni("flows", "validate", str(path)) == 1


def test_render_writes_import_ready_flows_from_the_instance_resources(connect: Stubber, tmp_path: Path) -> None:
    # Given an instance with the platform's queues, hours, flows and Lambda functions
    expect_listing(connect, flows=OUR_FLOWS)
    # When every flow is rendered for it
    assert omni("flows", "render", "--instance-id", INSTANCE_ID, "--region", "eu-west-2", "--out", str(tmp_path)) == 0
    # Then each file (flows and the module they share) is the source with the instance's ARNs in place
    for key in MANIFEST.deploy_order():
        written = json.loads((tmp_path / f"{key}.json").read_text())
        assert written == render(MANIFEST.load(key), RESOLVER)


def test_render_fails_clearly_when_the_instance_lacks_a_resource(
    connect: Stubber, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_listing(connect, flows=OUR_FLOWS, hours={"Opening times": arn("operating-hours", 9)})
    code = omni("flows", "render", "--instance-id", INSTANCE_ID, "--out", str(tmp_path), "--flow", "basic_inbound")
    error = capsys.readouterr().err
    assert code == 2
    assert "Parameters.HoursOfOperationId: no value for ${hours:business_hours}" in error
    assert "the instance needs ${hours:business_hours}: a hours named 'Business hours'" in error


def test_deploy_creates_flows_dependencies_first_and_links_them(
    connect: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an instance with none of the platform's flows or modules yet
    expect_listing(connect, flows={}, modules={})
    # Then the module is created first, then each flow published, later ones referring to the ARNs just created
    connect.add_response(
        "create_contact_flow_module",
        {"Id": "caller-greeting", "Arn": OUR_MODULES["Caller greeting"]},
        {
            "InstanceId": INSTANCE_ID,
            "Name": "Caller greeting",
            "Description": MANIFEST.modules["caller_greeting"].description,
            "Content": compact(render(MANIFEST.load_module("caller_greeting"), RESOLVER)),
        },
    )
    for key in MANIFEST.flows:
        entry = MANIFEST.flows[key]
        connect.add_response(
            "create_contact_flow",
            {"ContactFlowId": key, "ContactFlowArn": RESOLVER.get(("flow", key), arn("contact-flow", 7))},
            {
                "InstanceId": INSTANCE_ID,
                "Name": entry.name,
                "Type": entry.type,
                "Description": entry.description,
                "Content": compact(render(MANIFEST.load_flow(key), RESOLVER)),
                "Status": "PUBLISHED",
            },
        )
    assert omni("flows", "deploy", "--instance-id", INSTANCE_ID) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Caller greeting: created {OUR_MODULES['Caller greeting']}"
    assert "Basic inbound: created" in out


def test_deploy_updates_a_flow_that_exists(connect: Stubber, capsys: pytest.CaptureFixture[str]) -> None:
    expect_listing(connect, flows=OUR_FLOWS)
    connect.add_response(
        "update_contact_flow_content",
        {},
        {
            "InstanceId": INSTANCE_ID,
            "ContactFlowId": OUR_FLOWS["Basic inbound"].rsplit("/", 1)[1],
            "Content": compact(render(MANIFEST.load_flow("basic_inbound"), RESOLVER)),
        },
    )
    assert omni("flows", "deploy", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound") == 0
    assert capsys.readouterr().out.strip() == "Basic inbound: updated"


def test_deploy_prints_each_problem_of_a_rejected_flow(connect: Stubber, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an instance that rejects the new flow
    expect_listing(connect, flows={name: a for name, a in OUR_FLOWS.items() if name != "Basic inbound"})
    connect.add_client_error(
        "create_contact_flow",
        service_error_code="InvalidContactFlowException",
        service_message="The flow is not valid.",
        modeled_fields={
            "problems": [
                {"message": "Action is missing required property. Path: Actions[4].Transitions.NextAction"},
                {"message": "Invalid ARN. Path: Actions[5].Parameters.QueueId"},
            ]
        },
    )
    # When it is deployed, Then it exits 1 printing every problem the service returned
    assert omni("flows", "deploy", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound") == 1
    err = capsys.readouterr().err.splitlines()
    assert (
        "flows/basic_inbound.json: Action is missing required property. Path: Actions[4].Transitions.NextAction" in err
    )
    assert "flows/basic_inbound.json: Invalid ARN. Path: Actions[5].Parameters.QueueId" in err


def test_deploy_reports_other_service_errors_as_user_errors(
    connect: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_listing(connect, flows={})
    connect.add_client_error(
        "create_contact_flow", service_error_code="AccessDeniedException", service_message="no", http_status_code=403
    )
    assert omni("flows", "deploy", "--instance-id", INSTANCE_ID, "--flow", "customer_queue") == 2
    assert "Customer queue: AccessDeniedException: no" in capsys.readouterr().err


def describe(name: str, content: dict[str, Any]) -> dict[str, Any]:
    value = OUR_FLOWS[name]
    return {
        "ContactFlow": {
            "Arn": value,
            "Id": value.rsplit("/", 1)[1],
            "Name": name,
            "Type": "CONTACT_FLOW",
            "Content": compact(content),
        }
    }


def test_export_turns_the_instance_flow_back_into_the_source(connect: Stubber, tmp_path: Path) -> None:
    # Given the basic flow as the instance holds it (rendered with its ARNs)
    expect_listing(connect, flows=OUR_FLOWS)
    rendered = render(MANIFEST.load_flow("basic_inbound"), RESOLVER)
    connect.add_response(
        "describe_contact_flow",
        describe("Basic inbound", rendered),
        {"InstanceId": INSTANCE_ID, "ContactFlowId": OUR_FLOWS["Basic inbound"].rsplit("/", 1)[1]},
    )
    out = tmp_path / "basic_inbound.json"
    # When it is exported, Then the file is byte for byte the repository's source
    assert omni("flows", "export", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound", "--out", str(out)) == 0
    assert out.read_text() == MANIFEST.path_of("basic_inbound").read_text()


def test_export_fails_on_an_unknown_arn(connect: Stubber, capsys: pytest.CaptureFixture[str]) -> None:
    expect_listing(connect, flows=OUR_FLOWS)
    rendered = render(MANIFEST.load_flow("basic_inbound"), {**RESOLVER, ("queue", "general_support"): arn("queue", 99)})
    connect.add_response("describe_contact_flow", describe("Basic inbound", rendered))
    assert omni("flows", "export", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound") == 2
    error = capsys.readouterr().err
    assert f"Parameters.QueueId: unknown ARN {arn('queue', 99)}" in error


def test_export_of_a_flow_the_instance_does_not_have(connect: Stubber, capsys: pytest.CaptureFixture[str]) -> None:
    expect_listing(connect, flows={})
    assert omni("flows", "export", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound") == 2
    assert "has no flow named 'Basic inbound'" in capsys.readouterr().err


def test_simulate_prints_the_path_with_a_canned_lambda_response(capsys: pytest.CaptureFixture[str]) -> None:
    response = json.dumps(
        {"known": "true", "first_name": "Ada", "customer_id": "c-1", "tier": "gold", "last_contact_reason": "x"}
    )
    code = omni(
        "flows", "simulate", "personalised_inbound", "--phone", "+447700900123",
        "--at", "2026-11-23T10:00", "--lambda-response", f"caller_lookup={response}", "--attr", "channel_hint=phone",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "personalised_inbound/greet-caller (InvokeFlowModule) -> invoke module caller_greeting" in out
    assert "caller_greeting/greet (MessageParticipant) -> next" in out
    assert "caller_greeting/return (EndFlowModuleExecution) -> return to personalised_inbound" in out
    assert "attribute: channel_hint=phone" in out
    assert out.rstrip().endswith("queue: general_support\nend: queued")


def test_simulate_plugs_in_a_handler_by_module_path(capsys: pytest.CaptureFixture[str]) -> None:
    # json.loads is a stand-in "handler" that fails on the event: the flow must take the error branch.
    code = omni(
        "flows",
        "simulate",
        "personalised_inbound",
        "--phone",
        "+44",
        "--at",
        "2026-11-22T10:00",
        "--lambda",
        "caller_lookup=json:loads",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "lookup-caller (InvokeLambdaFunction) -> error NoMatchingError" in out
    assert "end: disconnected" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["flows", "simulate", "nope", "--phone", "+44"], "no flow 'nope' in the manifest"),
        (
            ["flows", "simulate", "basic_inbound", "--phone", "+44", "--attr", "novalue"],
            "--attr 'novalue': expected NAME=VALUE",
        ),
        (
            ["flows", "simulate", "basic_inbound", "--phone", "+44", "--at", "tuesday"],
            "--at 'tuesday': expected ISO 8601",
        ),
        (
            ["flows", "simulate", "basic_inbound", "--phone", "+44", "--lambda", "x=no_such_module:f"],
            "--lambda x=no_such_module:f",
        ),
        (
            ["flows", "simulate", "basic_inbound", "--phone", "+44", "--lambda-response", "x={"],
            "--lambda-response x: not JSON",
        ),
    ],
)
def test_user_errors_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert omni(*argv) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def no_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering offline must not reach for an instance: any Connect client fails the test."""

    def refuse(region: str | None) -> Any:
        raise AssertionError("offline render created a Connect client")

    monkeypatch.setattr(cli, "connect_client", refuse)


def write_map(path: Path, resolver: dict[tuple[str, str], str]) -> Path:
    path.write_text(ResourceMap.from_resolver(resolver).to_json())
    return path


def test_render_offline_from_a_resource_map_writes_the_same_flows_as_from_the_instance(
    no_instance: None, tmp_path: Path
) -> None:
    # Given the resource map of an instance (kind -> logical name -> ARN), and no credentials
    resources = write_map(tmp_path / "resources.json", RESOLVER)
    out = tmp_path / "out"
    # When every flow is rendered from it
    assert omni("flows", "render", "--resources", str(resources), "--out", str(out)) == 0
    # Then each file is what rendering against the instance gives, and it validates as import-ready
    for key in MANIFEST.deploy_order():
        written = json.loads((out / f"{key}.json").read_text())
        assert written == render(MANIFEST.load(key), RESOLVER)
    assert omni("flows", "validate", "--rendered", *map(str, sorted(out.glob("*.json")))) == 0


def test_render_offline_names_what_the_resource_map_lacks(
    no_instance: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = {key: value for key, value in RESOLVER.items() if key != ("hours", "business_hours")}
    resources = write_map(tmp_path / "resources.json", partial)
    code = omni("flows", "render", "--resources", str(resources), "--out", str(tmp_path), "--flow", "basic_inbound")
    error = capsys.readouterr().err
    assert code == 2
    assert "no value for ${hours:business_hours}" in error
    assert f"the resource map {resources} needs hours.business_hours" in error


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"queue": {"general_support": "General support"}}', "queue.general_support: must be an ARN"),
        ('{"queues": {"general_support": "arn:aws:connect:eu-west-2:1:instance/x/queue/y"}}', "queues: not a kind"),
        (
            '{"queue": {"General Support": "arn:aws:connect:eu-west-2:1:instance/x/queue/y"}}',
            "queue.General Support: a logical name is lower snake case",
        ),
        ("[1]", "expected {kind: {logical_name: ARN}}"),
        ("{", "not valid JSON"),
    ],
)
def test_a_bad_resource_map_is_one_line_naming_the_field(
    no_instance: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, fragment: str
) -> None:
    resources = tmp_path / "resources.json"
    resources.write_text(content)
    assert omni("flows", "render", "--resources", str(resources), "--out", str(tmp_path)) == 2
    error = capsys.readouterr().err
    assert fragment in error
    assert str(resources) in error


def test_export_writes_the_resource_map_that_render_uses_offline(connect: Stubber, tmp_path: Path) -> None:
    # Given the basic flow as the instance holds it
    expect_listing(connect, flows=OUR_FLOWS)
    rendered = render(MANIFEST.load_flow("basic_inbound"), RESOLVER)
    connect.add_response("describe_contact_flow", describe("Basic inbound", rendered))
    resources = tmp_path / "resources.json"
    source = tmp_path / "basic_inbound.json"
    # When it is exported with its resource map
    args = ["flows", "export", "--instance-id", INSTANCE_ID, "--flow", "basic_inbound", "--out", str(source)]
    assert omni(*args, "--resources", str(resources)) == 0
    # Then the map names every resource the source's placeholders stand for, and renders it back to the instance's flow
    resolver = ResourceMap.model_validate({"arns": json.loads(resources.read_text())}).resolver()
    assert render(json.loads(source.read_text()), resolver) == rendered


def test_export_reads_a_flow_module_back_into_its_source(connect: Stubber, tmp_path: Path) -> None:
    expect_listing(connect, flows=OUR_FLOWS)
    rendered = render(MANIFEST.load_module("caller_greeting"), RESOLVER)
    value = OUR_MODULES["Caller greeting"]
    connect.add_response(
        "describe_contact_flow_module",
        {
            "ContactFlowModule": {
                "Arn": value,
                "Id": value.rsplit("/", 1)[1],
                "Name": "Caller greeting",
                "Content": compact(rendered),
            }
        },
        {"InstanceId": INSTANCE_ID, "ContactFlowModuleId": value.rsplit("/", 1)[1]},
    )
    out = tmp_path / "caller_greeting.json"
    assert omni("flows", "export", "--instance-id", INSTANCE_ID, "--flow", "caller_greeting", "--out", str(out)) == 0
    assert out.read_text() == MANIFEST.module_path("caller_greeting").read_text()


def test_deploy_updates_a_module_and_prints_each_problem_the_service_finds(
    connect: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_listing(connect, flows=OUR_FLOWS)
    connect.add_client_error(
        "update_contact_flow_module_content",
        service_error_code="InvalidContactFlowModuleException",
        service_message="invalid",
        http_status_code=400,
        response_meta={},
        modeled_fields={"Problems": [{"message": "Actions[0]: the Lambda function is not associated"}]},
    )
    assert omni("flows", "deploy", "--instance-id", INSTANCE_ID, "--flow", "caller_greeting") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "flows/caller_greeting.json: rejected by Amazon Connect:",
        "flows/caller_greeting.json: Actions[0]: the Lambda function is not associated",
    ]
