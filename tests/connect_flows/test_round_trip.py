"""Round trip: a deployed flow read back from Connect, validated, turned into placeholders and rendered again.

The instance is botocore's Stubber answering `DescribeContactFlow` and
`DescribeContactFlowModule` in their documented shape (`{"ContactFlow": {...,
"Content": "<json string>"}}`). The rendered result must be the document the
instance held, modulo key order and the designer's block positions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from connect_flows.documents import read_flow_file
from connect_flows.manifest import MODULE
from connect_flows.placeholders import ARN_PATTERN, Placeholder, walk_strings
from connect_flows.render import export, render
from connect_flows.validate import errors, validate_flow

from .test_cli import INSTANCE_ID, MANIFEST, OUR_FLOWS, OUR_MODULES, RESOLVER, compact, connect, expect_listing, omni
from .test_exports import EXPORTS, INDEX, VALID

__all__ = ["connect"]  # the Stubber fixture, shared with the CLI tests

POSITION_KEYS = frozenset(("position", "entryPointPosition"))


def without_positions(value: Any) -> Any:
    """The document as compared: the designer may move blocks, nothing else may change."""
    if isinstance(value, dict):
        return {key: without_positions(item) for key, item in value.items() if key not in POSITION_KEYS}
    if isinstance(value, list):
        return [without_positions(item) for item in value]
    return value


def described(key: str, content: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(operation, documented response, expected parameters) of the Describe call for a project flow or module."""
    if key in MANIFEST.modules:
        name = MANIFEST.modules[key].name
        arn = OUR_MODULES[name]
        body = {"Arn": arn, "Id": arn.rsplit("/", 1)[1], "Name": name, "State": "ACTIVE", "Content": compact(content)}
        params = {"InstanceId": INSTANCE_ID, "ContactFlowModuleId": arn.rsplit("/", 1)[1]}
        return "describe_contact_flow_module", {"ContactFlowModule": body}, params
    entry = MANIFEST.flows[key]
    arn = OUR_FLOWS.get(entry.name) or RESOLVER.get(("flow", key), f"{OUR_FLOWS['Basic inbound']}-{key}")
    body = {
        "Arn": arn,
        "Id": arn.rsplit("/", 1)[1],
        "Name": entry.name,
        "Type": entry.type,
        "State": "ACTIVE",
        "Status": "PUBLISHED",
        "Content": compact(content),
    }
    return "describe_contact_flow", {"ContactFlow": body}, {"InstanceId": INSTANCE_ID, "ContactFlowId": body["Id"]}


@pytest.mark.parametrize("key", MANIFEST.deploy_order())
def test_every_project_flow_and_module_round_trips_through_export_and_render(
    connect: Stubber, tmp_path: Path, key: str
) -> None:
    # Given the flow as deployed (rendered with the instance's ARNs), and the instance listing it
    deployed = render(MANIFEST.load(key), RESOLVER)
    entry = MANIFEST.item(key)
    flows = {**OUR_FLOWS, entry.name: described(key, deployed)[1].get("ContactFlow", {}).get("Arn", "")}
    flows = {name: value for name, value in flows.items() if value}
    expect_listing(connect, flows=flows)
    operation, response, params = described(key, deployed)
    connect.add_response(operation, response, params)
    # When the Describe answer is validated as it is (the wrapper names the flow type)
    answer = tmp_path / "described.json"
    answer.write_text(json.dumps(response))
    assert omni("flows", "validate", "--rendered", str(answer)) == 0
    # And the flow is exported (back to placeholders) with the instance's resource map
    source, resources = tmp_path / f"{key}.json", tmp_path / "resources.json"
    args = ["flows", "export", "--instance-id", INSTANCE_ID, "--flow", key, "--out", str(source)]
    assert omni(*args, "--resources", str(resources)) == 0
    # Then the source is the repository's, byte for byte, and rendering it offline gives back what was deployed
    assert source.read_text() == (MANIFEST.root / entry.file).read_text()
    out = tmp_path / "out"
    assert omni("flows", "render", "--resources", str(resources), "--flow", key, "--out", str(out)) == 0
    assert without_positions(json.loads((out / f"{key}.json").read_text())) == without_positions(deployed)


_CONNECT_KINDS = {
    "queue": "queue",
    "prompt": "prompt",
    "operating-hours": "hours",
    "contact-flow": "flow",
    "flow-module": "module",
}
_WHOLE_ARN = re.compile(
    r"^arn:aws[a-z-]*:(lambda|connect):[^:]*:[0-9]*:(?:function:[^:]+|instance/[^/]+/([a-z-]+)/.+)$"
)


def names_for(document: Any) -> dict[str, Placeholder]:
    """A placeholder for each resource ARN of an export, named as an admin's manifest might name it."""
    known: dict[str, Placeholder] = {}
    for _, value in walk_strings(document):
        match = _WHOLE_ARN.match(value)
        if match is None or value in known:
            continue
        kind = "lambda" if match.group(1) == "lambda" else _CONNECT_KINDS.get(match.group(2) or "")
        assert kind is not None, f"no placeholder kind for {value}"
        known[value] = Placeholder(kind, f"{kind}_{len(known) + 1}")  # type: ignore[arg-type]
    return known


@pytest.mark.parametrize("name", VALID)
def test_every_valid_export_round_trips_through_placeholders(name: str) -> None:
    # Given a real export, as the instance returns it
    loaded = read_flow_file(EXPORTS / name)
    flow_type = INDEX[name]["type"] or loaded.flow_type
    module = flow_type == MODULE
    client = boto3.client("connect", region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    identifier = "11111111-0000-4000-8000-000000000000"
    with Stubber(client) as stubber:
        body: dict[str, Any] = {"Id": identifier, "Name": name, "Content": compact(loaded.document)}
        if module:
            stubber.add_response("describe_contact_flow_module", {"ContactFlowModule": body})
            answer = client.describe_contact_flow_module(InstanceId=INSTANCE_ID, ContactFlowModuleId=identifier)
            document = json.loads(answer["ContactFlowModule"]["Content"])
        else:
            stubber.add_response("describe_contact_flow", {"ContactFlow": {**body, "Type": flow_type}})
            answer = client.describe_contact_flow(InstanceId=INSTANCE_ID, ContactFlowId=identifier)
            document = json.loads(answer["ContactFlow"]["Content"])
    # When it is validated, then turned into placeholders and rendered again
    assert [p.format(name) for p in errors(validate_flow(document, rendered=True, flow_type=flow_type))] == []
    known = names_for(document)
    source = export(document, known)
    rendered = render(source, {(placeholder.kind, placeholder.name): arn for arn, placeholder in known.items()})
    # Then the source holds no ARN, and rendering it gives back the export
    assert [value for _, value in walk_strings(source) if ARN_PATTERN.search(value)] == []
    assert without_positions(rendered) == without_positions(document)
