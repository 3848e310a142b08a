"""Real exports from public repositories (fixtures/exports): each valid one validates, each broken one is named.

`fixtures/exports/index.json` records where each file comes from and what the
validator must say about it: "valid" (0 errors, every action type known), or a
phrase the error must contain, in words an admin understands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import omni_cli.main
from connect_flows.action_rules import ACTION_RULES
from connect_flows.documents import FlowFileError, read_flow_file
from connect_flows.simulate import Contact, EndReason, Simulator
from connect_flows.validate import Severity, validate_file

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
INDEX: dict[str, dict[str, Any]] = json.loads((EXPORTS / "index.json").read_text(encoding="utf-8"))
VALID = sorted(name for name, entry in INDEX.items() if entry["expect"] == "valid")
BROKEN = sorted(name for name, entry in INDEX.items() if entry["expect"] != "valid")


def test_the_index_lists_every_fixture_from_several_sources_and_the_readme_cites_each() -> None:
    files = {path.name for path in EXPORTS.glob("*.json")} - {"index.json"}
    assert set(INDEX) == files
    assert len(files) >= 15
    assert len({entry["repository"] for entry in INDEX.values()}) >= 5
    readme = (EXPORTS / "README.md").read_text(encoding="utf-8")
    for name, entry in INDEX.items():
        assert f"`{name}`" in readme
        assert entry["commit"][:12] in readme
        assert len(entry["commit"]) == 40


@pytest.mark.parametrize("name", VALID)
def test_a_valid_export_has_no_errors_and_only_known_action_types(name: str) -> None:
    problems = validate_file(EXPORTS / name, rendered=True, flow_type=INDEX[name]["type"])
    assert [p.format(name) for p in problems if p.severity is Severity.ERROR] == []
    document = read_flow_file(EXPORTS / name).document
    assert {action["Type"] for action in document["Actions"]} <= set(ACTION_RULES)


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_export_is_refused_with_its_fault_named(name: str) -> None:
    problems = validate_file(EXPORTS / name, rendered=True, flow_type=INDEX[name]["type"])
    found = [p for p in problems if p.severity is Severity.ERROR]
    assert any(INDEX[name]["expect"] in p.message for p in found), [p.format(name) for p in found]
    assert not any("is not an action type" in p.message for p in found)


def test_the_wrapper_names_the_flow_type_and_a_different_type_is_refused() -> None:
    # Given an export wrapped as create-contact-flow input, whose Type is AGENT_HOLD
    path = EXPORTS / "gitlab-cicd-acme-hold.json"
    assert read_flow_file(path).flow_type == "AGENT_HOLD"
    # When it is checked as another type, Then that is one clear error
    (problem,) = validate_file(path, rendered=True, flow_type="CONTACT_FLOW")
    assert problem.message == "the file says its flow type is AGENT_HOLD, but it is being checked as CONTACT_FLOW"


def test_a_wrapper_without_type_is_a_flow_module() -> None:
    assert read_flow_file(EXPORTS / "gitlab-cicd-acme-module.json").flow_type == "FLOW_MODULE"


def test_a_file_from_the_old_designer_is_named_as_such() -> None:
    with pytest.raises(FlowFileError, match="old flow designer"):
        read_flow_file(EXPORTS / "snippets-email-agent-whisper-legacy.json")


def test_the_flow_type_of_a_bare_file_is_checked_when_given(tmp_path: Path) -> None:
    # Given a customer queue export, When checked as an inbound flow, Then its queue-only blocks are errors
    problems = validate_file(EXPORTS / "statewise-customer-queue.json", rendered=True, flow_type="CONTACT_FLOW")
    assert any(
        p.message == "MessageParticipantIteratively is not available in CONTACT_FLOW flows"
        for p in problems
        if p.severity is Severity.ERROR
    )


def test_validate_on_the_command_line_takes_a_type_and_passes_the_valid_exports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrapped = [str(EXPORTS / name) for name in VALID if INDEX[name]["type"] is None]
    assert omni_cli.main.main(["flows", "validate", "--rendered", *wrapped]) == 0
    assert f"{len(wrapped)} flows: 0 errors" in capsys.readouterr().err
    queue = str(EXPORTS / "statewise-customer-queue.json")
    assert omni_cli.main.main(["flows", "validate", "--rendered", "--type", "CUSTOMER_QUEUE", queue]) == 0
    assert omni_cli.main.main(["flows", "validate", "--rendered", "--type", "AGENT_WHISPER", queue]) == 1


LOADABLE = sorted(name for name in INDEX if name != "snippets-email-agent-whisper-legacy.json")


@pytest.mark.parametrize("name", LOADABLE)
def test_the_simulator_walks_every_export_from_its_start_action(name: str) -> None:
    # Given an export, a caller with no input and no Lambda functions registered (default inputs)
    document = read_flow_file(EXPORTS / name).document
    trace = Simulator({"export": document}, max_steps=100).run("export", Contact("+447700900123"))
    # Then the walk ends for a reason it can name, with every step of a known action type
    assert trace.steps
    assert trace.end_reason in set(EndReason)
    assert {step.type for step in trace.steps} <= set(ACTION_RULES)
    if trace.end_reason in (EndReason.STOPPED, EndReason.BROKEN):
        last = trace.steps[-1]
        assert any(note.startswith(f"stopped at export/{last.identifier} ({last.type}): ") for note in trace.notes)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_simulate_on_the_command_line_takes_any_export_file_without_a_traceback(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = omni_cli.main.main(["flows", "simulate", str(EXPORTS / name), "--phone", "+447700900123"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    if name in LOADABLE:
        assert code == 0
        assert captured.out.splitlines()[-1].startswith("end: ")
    else:
        assert code == 2
        assert "old flow designer" in captured.err
