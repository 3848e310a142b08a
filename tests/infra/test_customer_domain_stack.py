"""Stage-2 customer domain: Glue tables, least-privilege matching role, the FindMatches switch."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint_file

from glue_jobs.customer_schema import SOURCE_COLUMNS
from infra.config import read_cdk_json_context
from infra.platform_app import synthesize

from .conftest import Synthesis, load_templates


def _domain(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("customer-domain"))


def test_source_table_has_every_source_column_as_string(dev5: Synthesis) -> None:
    tables = _domain(dev5).find_resources("AWS::Glue::Table")
    (source,) = [t for t in tables.values() if t["Properties"]["TableInput"]["Name"] == "source_customers"]
    descriptor = source["Properties"]["TableInput"]["StorageDescriptor"]
    assert [c["Name"] for c in descriptor["Columns"]] == list(SOURCE_COLUMNS)
    assert {c["Type"] for c in descriptor["Columns"]} == {"string"}
    assert "omni-cx-dev-raw-" in json.dumps(descriptor["Location"])


def _statements(template: Template) -> list[dict[str, Any]]:
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_matching_role_reads_only_source_records_and_writes_only_under_mdm(dev5: Synthesis) -> None:
    statements = _statements(_domain(dev5))
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert not [a for a in actions if a.endswith("*")], "no action wildcards"
    object_grants = {
        json.dumps(s["Resource"]): s["Action"] for s in statements if "s3:GetObject" in json.dumps(s["Action"])
    }
    assert any("/customers/*" in resource for resource in object_grants)
    assert any("/mdm/*" in resource for resource in object_grants)
    lists = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert lists
    assert all("s3:prefix" in s["Condition"]["StringLike"] for s in lists)


def test_splink_is_the_default_engine_with_no_glue_2_resources(dev5: Synthesis) -> None:
    assert _domain(dev5).find_resources("AWS::Glue::MLTransform") == {}


@pytest.fixture(scope="module")
def findmatches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    context = copy.deepcopy(read_cdk_json_context())
    context["omni:environments"]["prod"]["mdm"]["engine"] = "findmatches"
    outdir = tmp_path_factory.mktemp("findmatches")
    synthesize("prod", 2, str(outdir), context=context)  # raises on any unacknowledged nag finding
    template = next(t for name, t in load_templates(outdir).items() if name.endswith("customer-domain"))
    return outdir, template


def test_findmatches_engine_builds_an_encrypted_transform_on_the_keyed_table(
    findmatches: tuple[Path, dict[str, Any]],
) -> None:
    _, template = findmatches
    (transform,) = Template.from_json(template).find_resources("AWS::Glue::MLTransform").values()
    properties = transform["Properties"]
    assert properties["GlueVersion"] == "2.0"
    assert properties["TransformParameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"] == "source_key"
    assert properties["TransformParameters"]["FindMatchesParameters"]["PrecisionRecallTradeoff"] == 0.9
    encryption = properties["TransformEncryption"]["MLUserDataEncryption"]
    assert encryption["MLUserDataEncryptionMode"] == "SSE-KMS"
    assert properties["InputRecordTables"]["GlueTables"][0]["TableName"] == "prepared_customers"


def test_findmatches_engine_warns_that_glue_2_is_end_of_life(findmatches: tuple[Path, dict[str, Any]]) -> None:
    outdir, _ = findmatches
    metadata = (outdir / "omni-cx-prod-customer-domain.metadata.json").read_text()
    assert "Glue 2.0, which reached end of life on 2026-04-01" in metadata
    assert "Set mdm.engine to 'splink'" in metadata


def test_findmatches_variant_passes_cfn_lint(findmatches: tuple[Path, dict[str, Any]]) -> None:
    outdir, _ = findmatches
    matches = lint_file(outdir / "omni-cx-prod-customer-domain.template.json", config=ManualArgs(regions=["eu-west-2"]))
    assert [str(m) for m in matches if m.rule.severity == "error"] == []
