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
