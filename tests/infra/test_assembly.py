"""infra/assembly.py reads a cloud assembly once: stacks, templates, outputs, assets, and references across stacks.

A two-stack assembly written by hand, shaped as the CDK writes one (manifest
artifacts, `Fn::GetStackOutput` and exports between stacks, asset metadata).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.assembly import AssemblyError, CloudAssembly, Intrinsics, referenced_ids

PRODUCER = "omni-cx-test-foundation"
CONSUMER = "omni-cx-test-profiles"
ASSET = "asset.0123abcd"

PRODUCER_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "CustomersTable": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "customers"}},
        "EventBus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
    },
    "Outputs": {
        "PublishOutputRefCustomersTable": {"Value": {"Ref": "CustomersTable"}},
        "BusArn": {
            "Value": {"Fn::GetAtt": ["EventBus", "Arn"]},
            "Export": {"Name": "omni-cx-test-foundation:BusArn"},
        },
    },
}
CONSUMER_TEMPLATE: dict[str, Any] = {
    "Parameters": {"Stage": {"Type": "String", "Default": "v1"}},
    "Resources": {
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Metadata": {"aws:asset:path": ASSET, "aws:asset:property": "Code"},
            "Properties": {
                "Environment": {
                    "Variables": {
                        "CUSTOMER_TABLE_NAME": {
                            "Fn::GetStackOutput": {
                                "StackName": PRODUCER,
                                "Region": "eu-west-2",
                                "OutputName": "PublishOutputRefCustomersTable",
                            }
                        },
                        "EVENT_BUS_ARN": {"Fn::ImportValue": "omni-cx-test-foundation:BusArn"},
                        "WHERE": {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}/${Stage}/${Function.Arn}"},
                        "TABLE_ARN": {
                            "Fn::Join": [
                                "",
                                ["arn:", {"Ref": "AWS::Partition"}, ":dynamodb:::table/", {"Ref": "Missing"}],
                            ]
                        },
                    }
                }
            },
        }
    },
}


def _write_assembly(directory: Path, *, with_asset: bool = True) -> Path:
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "Producer": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "producer.template.json", "stackName": PRODUCER},
                "dependencies": ["Producer.assets"],
            },
            "Producer.assets": {"type": "cdk:asset-manifest", "properties": {"file": "producer.assets.json"}},
            CONSUMER: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "consumer.template.json"},
                "dependencies": ["Producer", "Producer.assets"],
            },
            "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / "producer.template.json").write_text(json.dumps(PRODUCER_TEMPLATE))
    (directory / "consumer.template.json").write_text(json.dumps(CONSUMER_TEMPLATE))
    if with_asset:
        (directory / ASSET).mkdir()
        (directory / ASSET / "handler.py").write_text("def lambda_handler(event, context): ...\n")
    return directory


def _attributes(stack: str, logical_id: str) -> dict[str, str]:
    """A stand-in for where the resources live: name and ARN from the logical id."""
    if logical_id == "Missing":
        return {"Ref": "missing"}
    name = f"{stack}/{logical_id}".lower()
    return {"Ref": name, "Arn": f"arn:aws:test:::{name}"}


def test_stacks_are_read_by_deployed_name_with_their_templates_and_dependencies(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    assert list(assembly.stacks) == [PRODUCER, CONSUMER]  # the manifest's order; assets and tree are not stacks
    assert assembly.template(PRODUCER) == PRODUCER_TEMPLATE
    assert assembly.templates == {PRODUCER: PRODUCER_TEMPLATE, CONSUMER: CONSUMER_TEMPLATE}
    assert assembly.stack(CONSUMER).dependencies == (PRODUCER,)  # stack names; asset manifests left out
    assert assembly.stack(CONSUMER).template_file == "consumer.template.json"
    assert [(r.stack, r.logical_id) for r in assembly.resources("AWS::DynamoDB::Table")] == [
        (PRODUCER, "CustomersTable")
    ]
    assert assembly.resource(CONSUMER, "Function").type == "AWS::Lambda::Function"


def test_outputs_and_exports_are_read_from_each_stack(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    assert {(output.stack, output.name) for output in assembly.outputs} == {
        (PRODUCER, "PublishOutputRefCustomersTable"),
        (PRODUCER, "BusArn"),
    }
    assert assembly.output(PRODUCER, "PublishOutputRefCustomersTable").value == {"Ref": "CustomersTable"}
    exported = assembly.export("omni-cx-test-foundation:BusArn")
    assert (exported.stack, exported.name) == (PRODUCER, "BusArn")


def test_references_across_stacks_resolve_in_the_stack_that_owns_the_resource(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    intrinsics = Intrinsics(assembly, account="111122223333", region="eu-west-2", attributes=_attributes)
    variables = assembly.resource(CONSUMER, "Function").properties["Environment"]["Variables"]
    resolved = intrinsics.resolve(variables, CONSUMER)
    # Fn::GetStackOutput: the producer's output, its Ref resolved in the producer's stack.
    assert resolved["CUSTOMER_TABLE_NAME"] == f"{PRODUCER}/customerstable"
    # Fn::ImportValue: the output exporting that name.
    assert resolved["EVENT_BUS_ARN"] == f"arn:aws:test:::{PRODUCER}/eventbus"
    # Fn::Sub: pseudo parameters, template parameters' defaults and attributes.
    assert resolved["WHERE"] == f"eu-west-2/111122223333/v1/arn:aws:test:::{CONSUMER}/function"
    assert resolved["TABLE_ARN"] == "arn:aws:dynamodb:::table/missing"


def test_referenced_ids_are_the_refs_and_getatts_of_an_expression() -> None:
    variables = CONSUMER_TEMPLATE["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert referenced_ids(variables["TABLE_ARN"]) == ["Missing"]  # pseudo parameters are not resources
    assert referenced_ids([{"Fn::GetAtt": "Bus.Arn"}, {"Fn::GetAtt": ["Table", "Arn"]}]) == ["Bus", "Table"]


def test_a_function_asset_is_found_in_the_assembly(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    directory = assembly.asset_directory(CONSUMER, "Function")
    assert directory == tmp_path / ASSET
    assert (directory / "handler.py").is_file()


def test_a_missing_manifest_says_to_synthesize_first(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"no manifest\.json; synthesize first \(make synth\)"):
        CloudAssembly.read(tmp_path / "cdk.out")


def test_a_missing_template_names_its_stack_and_file(tmp_path: Path) -> None:
    _write_assembly(tmp_path)
    (tmp_path / "consumer.template.json").unlink()
    with pytest.raises(AssemblyError, match=f"stack {CONSUMER}'s template consumer.template.json is missing"):
        CloudAssembly.read(tmp_path)


def test_a_manifest_that_is_not_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(AssemblyError, match=r"manifest\.json: not JSON"):
        CloudAssembly.read(tmp_path)


def test_an_unknown_stack_names_the_known_ones(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    with pytest.raises(AssemblyError, match=f"no stack omni-cx-test-nothing.*{PRODUCER}, {CONSUMER}"):
        assembly.template("omni-cx-test-nothing")
    with pytest.raises(AssemblyError, match=f"{PRODUCER}: no resource Nothing"):
        assembly.resource(PRODUCER, "Nothing")


def test_a_missing_output_or_export_is_named(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    intrinsics = Intrinsics(assembly, account="111122223333", region="eu-west-2", attributes=_attributes)
    with pytest.raises(AssemblyError, match=f"stack {PRODUCER} has no output Gone"):
        intrinsics.resolve({"Fn::GetStackOutput": {"StackName": PRODUCER, "OutputName": "Gone"}}, CONSUMER)
    with pytest.raises(AssemblyError, match="no stack exports nobody:Gone"):
        intrinsics.resolve({"Fn::ImportValue": "nobody:Gone"}, CONSUMER)
    with pytest.raises(AssemblyError, match="no stack exports nobody:Gone"):
        assembly.export("nobody:Gone")


def test_an_intrinsic_it_cannot_evaluate_is_named(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path))
    intrinsics = Intrinsics(assembly, account="111122223333", region="eu-west-2", attributes=_attributes)
    with pytest.raises(AssemblyError, match=r"cannot resolve Fn::FindInMap"):
        intrinsics.resolve({"Fn::FindInMap": ["M", "k", "v"]}, CONSUMER)


def test_a_missing_asset_names_it(tmp_path: Path) -> None:
    assembly = CloudAssembly.read(_write_assembly(tmp_path, with_asset=False))
    with pytest.raises(AssemblyError, match=f"{CONSUMER}/Function: its asset {ASSET} is missing"):
        assembly.asset_directory(CONSUMER, "Function")
    with pytest.raises(AssemblyError, match=f"{PRODUCER}/CustomersTable has no asset"):
        assembly.asset_directory(PRODUCER, "CustomersTable")
    in_memory = CloudAssembly.from_templates(assembly.templates)
    with pytest.raises(AssemblyError, match="not read from a directory"):
        in_memory.asset_directory(CONSUMER, "Function")


def test_a_function_asset_is_found_through_its_stack_asset_manifest(tmp_path: Path) -> None:
    """Synthesis may leave out the asset-path metadata; the asset manifest (what deploy uploads) still says."""
    template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "abc.zip"}}}}}
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "App": {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": "app.template.json", "stackName": "omni-cx-test-app"},
                "dependencies": ["App.assets"],
            },
            "App.assets": {"type": "cdk:asset-manifest", "properties": {"file": "app.assets.json"}},
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "app.template.json").write_text(json.dumps(template))
    (tmp_path / "app.assets.json").write_text(json.dumps({"files": {"abc": {"source": {"path": "asset.abc"}}}}))
    (tmp_path / "asset.abc").mkdir()
    assembly = CloudAssembly.read(tmp_path)
    assert assembly.asset_directory("omni-cx-test-app", "Fn") == tmp_path / "asset.abc"
    (tmp_path / "app.assets.json").unlink()
    with pytest.raises(AssemblyError, match=r"omni-cx-test-app: its asset manifest app\.assets\.json is missing"):
        assembly.asset_directory("omni-cx-test-app", "Fn")
