"""The sandbox's customer domain with mdm.engine entity-resolution synthesized: a local stand-in of the service's
output, then the real publication rule, survivorship, run layout and loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_jobs.entity_resolution_schema import CONFIDENCE_LEVEL, MATCH_ID, MATCH_RULE, UNIQUE_ID_FIELD
from infra.config import read_cdk_json_context
from infra.platform_app import synthesize
from infra.stacks.customer_domain_stack import MDM_PREFIX
from sandbox.context import Progress, RunContext, Sizes
from sandbox.platform import local_platform
from sandbox.run import F1_FLOOR
from sandbox.steps import entity_resolution, mdm
from sandbox.templates import CloudAssembly, read_assembly

SIZES = Sizes(customers=600, journeys=1, seed=7)  # the sizes the end-to-end sandbox test matches with


@pytest.fixture(scope="module")
def er_templates(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    context = copy.deepcopy(read_cdk_json_context())
    context["omni:environments"]["dev"]["mdm"]["engine"] = "entity-resolution"
    outdir = tmp_path_factory.mktemp("entity-resolution-assembly")
    synthesize("dev", 2, str(outdir), context=context)
    return read_assembly(outdir)


def test_with_the_engine_synthesized_the_mdm_step_stands_in_for_the_service_and_loads_its_run(
    er_templates: CloudAssembly, tmp_path: Path
) -> None:
    with local_platform(env="dev", maturity=2, templates=er_templates) as platform:
        context = RunContext(platform, SIZES, tmp_path, Progress(stream=None))
        result = mdm.run(context)
        s3 = platform.client("s3")
        bucket = platform.bucket(f"curated-{platform.account}-{platform.region}")
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        (manifest_key,) = [key for key in keys if key.startswith(f"{MDM_PREFIX}runs/")]
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
        (output_key,) = [key for key in keys if "/success/" in key]
        output = pd.read_csv(s3.get_object(Bucket=bucket, Key=output_key)["Body"], dtype=str, keep_default_na=False)

    # The stand-in wrote the documented output of a job of the synthesized workflow ...
    assert output_key.startswith(f"{MDM_PREFIX}entity-resolution/omni-cx-dev-customer-matching/")
    assert {"InputSourceARN", UNIQUE_ID_FIELD, CONFIDENCE_LEVEL, MATCH_ID} <= set(output.columns)
    assert len(output) == result.source_records
    # ... and the run published from it is the service's: its job, no local model, no scored pairs.
    assert (result.engine, manifest["engine"]) == ("entity-resolution", "entity-resolution")
    assert manifest["engine_run"]["stand_in"] is True
    assert manifest["engine_run"]["min_confidence"] == 0.9
    assert "model" not in manifest
    assert "match_pairs" not in manifest["prefixes"]
    assert manifest["golden_records"] == result.golden_records == result.profiles_loaded
    assert result.golden_ids_unresolvable == 0
    assert result.f1 >= F1_FLOOR
    (note,) = result.notes
    assert "local stand-in" in note
    assert "AWS Entity Resolution cannot run offline" in note


class _Synthesized:
    """What the stand-in reads of a platform: its templates' resources of a type."""

    def __init__(self, templates: CloudAssembly) -> None:
        self.templates = templates

    def resources(self, *types: str) -> list[Any]:
        return self.templates.resources(*types)


def test_without_a_synthesized_workflow_there_is_no_stand_in() -> None:
    splink = CloudAssembly.from_templates({"omni-cx-dev-customer-domain": {"Resources": {}}})
    assert entity_resolution.workflow_of(_Synthesized(splink)) is None  # type: ignore[arg-type]


def test_the_rules_stand_in_joins_records_whose_rule_keys_all_agree() -> None:
    records = pd.DataFrame(
        [
            # same name and birth date, captured differently: rule same-name-and-birth-date
            ("crm", "1", "Ann", "Lee", "ann@example.com", "1980-02-03"),
            ("store_pos", "7", "ANN", "LEE", None, "1980-02-03"),
            # same e-mail and name, no birth date: rule same-email-and-name
            ("ecommerce", "4", "Ann", "Lee", " ANN@example.com", None),
            # same name, another birth date and e-mail: another person
            ("crm", "2", "Ann", "Lee", "a.lee@example.org", "1991-09-09"),
        ],
        columns=["source_system", "source_id", "first_name", "last_name", "email", "date_of_birth"],
    )
    for column in ("phone", "address_line", "city", "postcode", "country", "updated_at"):
        records[column] = None
    output = entity_resolution.rules_output(records).set_index(UNIQUE_ID_FIELD)
    assert output.loc["crm:1", MATCH_ID] == output.loc["store_pos:7", MATCH_ID] == output.loc["ecommerce:4", MATCH_ID]
    assert output.loc["crm:2", MATCH_ID] != output.loc["crm:1", MATCH_ID]
    assert output.loc["store_pos:7", MATCH_RULE] == "same-name-and-birth-date"
    assert output.loc["crm:2", MATCH_RULE] == ""
