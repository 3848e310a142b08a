"""The flows in the repository: each one validates, and the manifest's stages only ever add flows."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from connect_flows.manifest import Manifest, load_manifest
from connect_flows.placeholders import ARN_PATTERN, walk_strings
from connect_flows.validate import validate_file

MANIFEST = load_manifest()


@pytest.mark.parametrize("key", list(MANIFEST.flows))
def test_every_repository_flow_validates_without_errors_or_warnings(key: str) -> None:
    # Given a flow listed in the manifest, When it is validated in source mode with its flow type
    problems = validate_file(MANIFEST.path_of(key), manifest=MANIFEST)
    # Then nothing is reported
    assert [problem.format(key) for problem in problems] == []


@pytest.mark.parametrize("key", list(MANIFEST.flows))
def test_no_repository_flow_holds_a_literal_arn(key: str) -> None:
    document = MANIFEST.load_flow(key)
    assert [value for _, value in walk_strings(document) if ARN_PATTERN.search(value)] == []


def test_stage_upgrades_only_add_flows(manifest: Manifest) -> None:
    # Given the flows of each maturity stage
    stages = [set(manifest.flows_for_stage(stage)) for stage in range(1, 6)]
    # Then each stage keeps every flow of the stage below, and the basic fallback is always there
    for lower, higher in itertools.pairwise(stages):
        assert lower <= higher
    assert all("basic_inbound" in flows for flows in stages)
    assert stages[0] == {"basic_inbound", "customer_queue", "agent_whisper"}
    assert "personalised_inbound" in stages[2]
    assert "personalised_inbound_offers" not in stages[2]
    assert "personalised_inbound_offers" in stages[3]
    assert stages[4] - stages[3] == {"personalised_inbound_next_action", "agent_whisper_next_action"}


def test_flows_transferred_to_come_earlier_in_the_manifest(manifest: Manifest) -> None:
    # Deploy creates flows in manifest order; a flow can only point at one created before it.
    order = list(manifest.flows)
    for key in order:
        text = json.dumps(manifest.load_flow(key))
        for earlier in order:
            if "${flow:" + earlier + "}" in text:
                assert order.index(earlier) < order.index(key), f"{key} refers to {earlier} before it exists"


def test_manifest_refuses_a_missing_flow_file(tmp_path: Path) -> None:
    # Given a manifest naming a file that does not exist
    path = tmp_path / "manifest.json"
    entry = {"file": "flows/nope.json", "name": "Nope", "type": "CONTACT_FLOW", "min_stage": 1}
    path.write_text(json.dumps({"flows": {"nope": entry}}))
    # When it is loaded, Then the error names the flow and the file
    with pytest.raises(ValueError, match=r"nope: flows/nope\.json"):
        load_manifest(path)


@pytest.mark.parametrize("key", list(MANIFEST.modules))
def test_every_repository_module_validates_as_a_module(key: str) -> None:
    problems = validate_file(MANIFEST.module_path(key), manifest=MANIFEST)
    assert [problem.format(key) for problem in problems] == []
    assert MANIFEST.kind_for_file(MANIFEST.module_path(key)) == "FLOW_MODULE"


def _invokers(manifest: Manifest, module: str) -> list[str]:
    return [key for key in manifest.flows if "${module:" + module + "}" in json.dumps(manifest.load_flow(key))]


@pytest.mark.parametrize("module", list(MANIFEST.modules))
def test_a_module_ships_with_the_lowest_stage_of_the_flows_that_invoke_it(module: str) -> None:
    invokers = _invokers(MANIFEST, module)
    assert invokers, f"{module} is invoked by no flow"
    assert MANIFEST.modules[module].min_stage == min(MANIFEST.flows[key].min_stage for key in invokers)
    for stage in range(1, 6):
        deployed = MANIFEST.flows_for_stage(stage)
        if any(key in deployed for key in invokers):
            assert module in MANIFEST.modules_for_stage(stage)


def test_the_personalised_inbound_flows_share_the_caller_greeting_module() -> None:
    # The lookup, the profile attributes and the greeting live once, in the module
    inbound = [key for key in MANIFEST.flows if key.startswith("personalised_inbound")]
    assert sorted(_invokers(MANIFEST, "caller_greeting")) == sorted(inbound)
    for key in MANIFEST.flows:
        text = json.dumps(MANIFEST.load_flow(key))
        assert "${lambda:caller_lookup}" not in text
        assert "welcome back" not in text
    module = json.dumps(MANIFEST.load_module("caller_greeting"))
    assert "${lambda:caller_lookup}" in module
    assert "welcome back" in module
