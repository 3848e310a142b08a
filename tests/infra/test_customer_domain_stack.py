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
from infra.stacks.customer_domain_stack import SPLINK_REQUIREMENTS, glue_requirements

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
    """The matching jobs' role policy."""
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "MatchingRole" in json.dumps(p["Properties"]["Roles"])
    ]
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


def test_splink_job_runs_on_current_glue_encrypted_with_the_package_and_the_schedule(dev5: Synthesis) -> None:
    template = _domain(dev5)
    (job,) = template.find_resources("AWS::Glue::Job").values()
    properties = job["Properties"]
    assert properties["GlueVersion"] == "5.0"
    arguments = properties["DefaultArguments"]
    assert arguments["--additional-python-modules"] == ",".join(glue_requirements(SPLINK_REQUIREMENTS))
    assert "/tmp/customer-matching/" in json.dumps(arguments["--TempDir"])
    assert arguments["--enable-metrics"] == "true"
    assert arguments["--threshold"] == "0.9"
    assert arguments["--extra-jars"]["Fn::Sub"].endswith(".jar")
    assert arguments["--extra-py-files"]["Fn::Sub"].endswith(".zip")
    assert "/customers/" in json.dumps(arguments["--input_path"])
    assert "/mdm/" in json.dumps(arguments["--output_path"])
    (security,) = template.find_resources("AWS::Glue::SecurityConfiguration").values()
    encryption = security["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert properties["SecurityConfiguration"] == {
        "Ref": next(iter(template.find_resources("AWS::Glue::SecurityConfiguration")))
    }
    template.has_resource_properties(
        "AWS::Glue::Trigger",
        {"Type": "SCHEDULED", "Schedule": "cron(0 2 * * ? *)", "Actions": [{"JobName": properties["Name"]}]},
    )


def test_the_matching_role_publishes_job_metrics_only_to_glues_namespace(dev5: Synthesis) -> None:
    (metrics,) = [s for s in _statements(_domain(dev5)) if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}


def test_the_matching_role_reads_and_writes_its_scratch_folder_only(dev5: Synthesis) -> None:
    resources = [
        json.dumps(s["Resource"]) for s in _statements(_domain(dev5)) if "s3:PutObject" in json.dumps(s["Action"])
    ]
    assert any("/tmp/customer-matching/*" in resource for resource in resources)
    assert not any('/tmp/*"' in resource for resource in resources)


def test_findmatches_runs_are_published_by_a_current_glue_job_when_findmatches_succeeds(
    findmatches: tuple[Path, dict[str, Any]],
) -> None:
    outdir, template = findmatches
    jobs = {
        job["Properties"]["Name"]: job["Properties"]
        for job in Template.from_json(template).find_resources("AWS::Glue::Job").values()
    }
    matching, publication = jobs["omni-cx-prod-customer-findmatches"], jobs["omni-cx-prod-customer-findmatches-publish"]
    assert matching["GlueVersion"] == "2.0"
    assert publication["GlueVersion"] == "5.0"
    script_hash = publication["Command"]["ScriptLocation"]["Fn::Sub"].rsplit("/", 1)[-1].removesuffix(".py")
    staged = outdir / f"asset.{script_hash}.py"
    assert staged.read_text() == (Path(__file__).parents[2] / "glue_jobs" / "findmatches_publish_job.py").read_text()
    assert "/mdm/findmatches/" in json.dumps(publication["DefaultArguments"]["--matched_path"])
    assert publication["DefaultArguments"]["--additional-python-modules"] == ",".join(
        glue_requirements(SPLINK_REQUIREMENTS)
    )
    Template.from_json(template).has_resource_properties(
        "AWS::Glue::Trigger",
        {
            "Type": "CONDITIONAL",
            "Predicate": {
                "Conditions": [
                    {"JobName": "omni-cx-prod-customer-findmatches", "LogicalOperator": "EQUALS", "State": "SUCCEEDED"}
                ]
            },
            "Actions": [{"JobName": "omni-cx-prod-customer-findmatches-publish"}],
        },
    )
    (rule,) = [
        r["Properties"]
        for r in Template.from_json(template).find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.glue"]
    ]
    assert sorted(rule["EventPattern"]["detail"]["jobName"]) == sorted(jobs)


def test_a_failed_matching_run_alerts_the_alert_topic(dev5: Synthesis) -> None:
    (rule,) = [
        r
        for r in _domain(dev5).find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.glue"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["state"] == ["FAILED", "TIMEOUT", "STOPPED"]
    assert "sns:eu-west-2" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])
    assert ":omni-cx-dev-alerts" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])


def test_the_job_package_holds_only_the_glue_jobs_package(dev5: Synthesis) -> None:
    packaged = [path for path in dev5.outdir.glob("asset.*") if path.is_dir() and (path / "glue_jobs").is_dir()]
    assert len(packaged) == 1
    assert sorted(p.name for p in packaged[0].iterdir()) == ["glue_jobs"]
    assert (packaged[0] / "glue_jobs" / "splink_job.py").is_file()
    assert not list(packaged[0].rglob("__pycache__"))


def test_the_role_reads_only_its_own_code_objects_from_the_staging_bucket(dev5: Synthesis) -> None:
    statements = _statements(_domain(dev5))
    staging = [
        (statement["Action"], json.dumps(resource))
        for statement in statements
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if "cdk-hnb659fds-assets" in json.dumps(resource)
    ]
    assert len(staging) == 3  # the job script, the package and Splink's similarity jar
    for action, resource in staging:
        assert action == "s3:GetObject"
        assert resource.endswith(('.zip"]]}', '.py"]]}', '.jar"]]}')), resource


def test_a_published_run_manifest_invokes_the_loader_once_at_a_time(dev5: Synthesis) -> None:
    template = _domain(dev5)
    (rule,) = [
        r
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.s3"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "mdm/runs/run_id=*/manifest.json"}]
    assert "omni-cx-dev-curated-" in json.dumps(pattern["detail"]["bucket"]["name"])
    (loader,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "mdm_loader.handler.lambda_handler"
    ]
    assert loader["Properties"]["ReservedConcurrentExecutions"] == 1
    assert loader["Properties"]["Timeout"] == 900
    assert "DeadLetterConfig" in loader["Properties"]
    assert "MdmLoaderLive" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])


def test_the_loader_reads_only_the_mdm_prefix_and_writes_with_named_actions(dev5: Synthesis) -> None:
    statements = [
        s
        for policy in _domain(dev5).find_resources("AWS::IAM::Policy").values()
        if "MdmLoaderRole" in json.dumps(policy["Properties"]["Roles"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchWriteItem",
    }
    reads = [json.dumps(s["Resource"]) for s in statements if s["Action"] == "s3:GetObject"]
    assert reads
    assert all("/mdm/*" in resource for resource in reads)
