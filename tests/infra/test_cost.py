"""`omni cost`: per-service lines with sources for each stage, only for what is deployed, scaled by the volumes."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from infra.config import config_for
from infra.cost import CostError, PriceList, Volumes, estimate, runs_per_month
from infra.stages import Stage
from omni_cli.main import main
from tests.infra.conftest import Synthesis

PRICES = PriceList.load("eu-west-2")
# Services whose first line appears at each stage (a stage deploys those of the lower stages too).
FIRST_AT = {
    Stage.DISJOINTED: {"KMS", "Connect"},
    Stage.CONSISTENT: {"Glue", "DynamoDB", "Lambda", "CloudWatch"},
    Stage.INTEGRATED: {"Kinesis", "Firehose", "S3", "API Gateway", "WAF"},
    Stage.ORCHESTRATED: {"SageMaker"},
    Stage.SEAMLESS: {"EventBridge"},
}


def _estimate(synthesis: Synthesis, volumes: Volumes | None = None) -> dict[str, object]:
    config = config_for(synthesis.env, synthesis.stage.value)
    return estimate(synthesis.assembly(), config, volumes or Volumes(), PRICES).as_json()


@pytest.mark.parametrize("stage", list(Stage))
def test_each_stage_prices_what_it_deploys_with_a_source_per_line(
    syntheses: Mapping[tuple[str, Stage], Synthesis], stage: Stage
) -> None:
    result = _estimate(syntheses["prod", stage])
    lines = result["lines"]
    assert isinstance(lines, list)
    assert lines
    assert all(line["source"].startswith("https://aws.amazon.com/") and line["unit"] for line in lines)
    services = {line["service"] for line in lines}
    deployed = set().union(*(FIRST_AT[s] for s in Stage if s <= stage))
    not_yet = set().union(*(FIRST_AT[s] for s in Stage if s > stage))
    assert deployed <= services, deployed - services
    assert not services & not_yet, services & not_yet
    assert result["prices_checked"] == "2026-12-02"


def test_usage_lines_scale_linearly_and_fixed_lines_do_not(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> None:
    prod4 = syntheses["prod", Stage.ORCHESTRATED]
    one = _estimate(prod4, Volumes(1_000_000, 500_000, 200_000, 20_000))
    two = _estimate(prod4, Volumes(2_000_000, 1_000_000, 400_000, 40_000))
    lines = {(line["service"], line["item"]): line["quantity"] for line in one["lines"]}  # type: ignore[attr-defined]
    doubled = {(line["service"], line["item"]): line["quantity"] for line in two["lines"]}  # type: ignore[attr-defined]
    for key in [
        ("Kinesis", "data written"),
        ("DynamoDB", "read request units"),
        ("DynamoDB", "write request units"),
        ("Connect", "voice service"),
        ("API Gateway", "REST API calls"),
        ("Firehose", "ingestion"),
    ]:
        assert doubled[key] == pytest.approx(2 * lines[key]), key
    for key in [("Kinesis", "on-demand stream-hours"), ("KMS", "customer managed keys"), ("WAF", "web ACLs")]:
        assert doubled[key] == lines[key], key


def test_api_calls_cost_nothing_before_an_api_is_deployed(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> None:
    prod2 = syntheses["prod", Stage.CONSISTENT]
    quiet, busy = (_estimate(prod2, Volumes(api_calls_per_day=calls)) for calls in (0, 10_000_000))
    assert quiet["monthly_total"] == busy["monthly_total"]


def test_unknown_region_is_a_clear_error() -> None:
    with pytest.raises(
        CostError, match=r"region ap-south-1: prices.json has no prices for it; regions priced: eu-west-2, us-east-1"
    ):
        PriceList.load("ap-south-1")


def test_a_bad_volume_names_its_option() -> None:
    with pytest.raises(CostError, match="--customers = -1: must be a number, 0 or more"):
        Volumes(customers=-1)


def test_schedules_become_runs_per_month() -> None:
    assert runs_per_month("cron(0 2 * * ? *)") == pytest.approx(30.4)
    assert runs_per_month("cron(0 3 ? * SUN *)") == pytest.approx(30.4 / 7)
    assert runs_per_month("rate(6 hours)") == pytest.approx(4 * 30.4)


@pytest.mark.parametrize(
    ("option", "value"), [("--events-per-day", "-5"), ("--customers", "lots"), ("--contacts-per-month", "nan")]
)
def test_cli_bad_volume_exits_2_naming_the_option(capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    assert main(["cost", "--env", "prod", "--to-stage", "1", option, value]) == 2
    assert capsys.readouterr().err == f"omni cost: error: {option} = {value!r}: must be a number, 0 or more\n"


def test_cli_prints_lines_with_sources_and_its_date(
    syntheses: Mapping[tuple[str, Stage], Synthesis], capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = syntheses["prod", Stage.INTEGRATED].outdir
    argv = ["cost", "--env", "prod", "--to-stage", "3", "--assembly", str(outdir), "--events-per-day", "2000000"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "prod at stage 3 Integrated (eu-west-2): about USD" in out
    assert "prices as checked on 2026-12-02" in out
    assert "source: https://aws.amazon.com/kinesis/data-streams/pricing/" in out
    assert "\nSageMaker " not in out  # no service line before stage 4
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["volumes"]["events_per_day"] == 2_000_000
    assert document["monthly_total"] == pytest.approx(sum(line["monthly"] for line in document["lines"]), abs=0.1)
