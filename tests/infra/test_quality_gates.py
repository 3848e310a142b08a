"""The gates every stack of every stage and environment must pass."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file

from infra.config import config_for
from infra.constructs.compliance import enable_compliance_checks
from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis

COMBINATIONS = [(env, stage) for env in ENVIRONMENTS for stage in Stage]


@pytest.mark.parametrize(("env", "stage"), COMBINATIONS, ids=[f"{e}-{s.value}" for e, s in COMBINATIONS])
def test_every_stage_synthesizes_with_no_unacknowledged_finding(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str, stage: Stage
) -> None:
    synthesis = syntheses[env, stage]
    findings = "\n".join(synthesis.violations())
    assert synthesis.error is None, f"cdk-nag findings for {env} at stage {stage.label}:\n{findings}"
    assert synthesis.templates, "no stack synthesized"


def test_game_days_synthesize_with_no_unacknowledged_finding(game_days: Synthesis) -> None:
    findings = "\n".join(game_days.violations())
    assert game_days.error is None, f"cdk-nag findings with game days enabled:\n{findings}"
    assert any(name.endswith("-game-days") for name in game_days.templates)


def test_game_days_pass_cfn_lint(game_days: Synthesis) -> None:
    region = config_for(game_days.env).region
    errors = []
    for template in sorted(game_days.outdir.glob("*.template.json")):
        matches = lint_file(template, config=ManualArgs(regions=[region]))
        errors += [f"{template.name}: {match}" for match in matches if match.rule.severity == "error"]
    assert errors == []


def test_compliance_gate_fails_on_a_non_compliant_resource(tmp_path: Path) -> None:
    # Given an app with a bucket left at S3's defaults (no logging, no KMS, plain HTTP allowed)
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Planted"), "Bucket")
    enable_compliance_checks(app)
    # When it is synthesized, Then the gate stops it and every pack names its findings
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    for rule in (
        "AwsSolutions-S1",
        "HIPAA.Security-S3BucketSSLRequestsOnly",
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "PCI.DSS.321-S3BucketLoggingEnabled",
    ):
        assert rule in report


@pytest.mark.parametrize(("env", "stage"), COMBINATIONS, ids=[f"{e}-{s.value}" for e, s in COMBINATIONS])
def test_cfn_lint_reports_no_error(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str, stage: Stage) -> None:
    synthesis = syntheses[env, stage]
    region = config_for(env).region
    errors = []
    for template in sorted(synthesis.outdir.glob("*.template.json")):
        matches = lint_file(template, config=ManualArgs(regions=[region]))
        errors += [f"{template.name}: {match}" for match in matches if match.rule.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_stack_set_grows_with_the_stage(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> None:
    previous: set[str] = set()
    for stage in Stage:
        stacks = set(syntheses[env, stage].templates)
        assert previous <= stacks, f"stage {stage.label} drops {sorted(previous - stacks)}"
        previous = stacks


@pytest.mark.parametrize("fixture", ["delivery_pipeline", "delivery_pipeline_s3"])
def test_the_delivery_pipeline_synthesizes_with_no_unacknowledged_finding(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    pipeline: Synthesis = request.getfixturevalue(fixture)
    findings = "\n".join(pipeline.violations())
    assert pipeline.error is None, f"cdk-nag findings in the delivery pipeline:\n{findings}"
    assert "omni-cx-delivery" in pipeline.templates


def test_the_delivery_pipeline_passes_cfn_lint(delivery_pipeline: Synthesis) -> None:
    # The pipeline's own template; each environment's stage holds the platform's stacks, linted above.
    errors = []
    for template in sorted(delivery_pipeline.outdir.glob("*.template.json")):
        matches = lint_file(template, config=ManualArgs(regions=["eu-west-2"]))
        errors += [f"{template.name}: {match}" for match in matches if match.rule.severity == "error"]
    assert errors == []
