"""`omni config show`: every setting of an environment, its value and whether cdk.json, a default or -c gave it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import ENVIRONMENTS_KEY, config_for, read_cdk_json_context
from infra.config_sources import DEFAULT_SOURCE, MATURITY_OVERRIDE_SOURCE, resolve
from omni_cli.main import main

PROD = "cdk.json:context.omni:environments.prod"


def _row(out: str, setting: str) -> list[str]:
    (line,) = [line for line in out.splitlines() if line.split(" ", 1)[0] == setting]
    return line.split()


def test_text_names_each_setting_its_value_and_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--env", "prod"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("omni-cx / prod (eu-west-2), stage 1 Disjointed: every setting, its value and where")
    assert _row(out, "sizing.lambda_memory_mb") == [
        "sizing.lambda_memory_mb",
        "1024",
        f"{PROD}.sizing.lambda_memory_mb",
    ]
    assert _row(out, "powertools_layer_version") == ["powertools_layer_version", "36", DEFAULT_SOURCE]
    assert _row(out, "project") == ["project", '"omni-cx"', "cdk.json:context.omni:project"]
    # A list of objects is spelled out item by item, each from its setting's source
    assert _row(out, "alerts.watches[11].name") == ["alerts.watches[11].name", '"stream-iterator-age"', DEFAULT_SOURCE]
    assert _row(out, "contact_centre.hours.SATURDAY") == [
        "contact_centre.hours.SATURDAY",
        '["09:00",',
        '"17:00"]',
        DEFAULT_SOURCE,
    ]


def test_json_holds_the_resolved_environment_and_each_settings_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--env", "dev", "--json"]) == 0
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert (shown["project"], shown["env"]) == ("omni-cx", "dev")
    assert shown["environment"] == config_for("dev").environment.model_dump(mode="json")
    sources = shown["sources"]
    assert sources["events.stream_mode"] == "cdk.json:context.omni:environments.dev.events.stream_mode"
    assert sources["events.batch_size"] == DEFAULT_SOURCE
    assert (
        sources["mdm.splink.number_of_workers"] == "cdk.json:context.omni:environments.dev.mdm.splink.number_of_workers"
    )
    assert sources["mdm.splink.worker_type"] == DEFAULT_SOURCE  # the rest of a section given in part
    assert sources["alerts.watches"] == DEFAULT_SOURCE


def test_the_maturity_given_on_the_command_line_is_named_as_the_override(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--env", "prod", "--maturity", "3", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["environment"]["maturity"], shown["sources"]["maturity"]) == (3, MATURITY_OVERRIDE_SOURCE)


def test_an_environment_given_only_its_basics_shows_everything_else_as_default() -> None:
    context = read_cdk_json_context()
    context[ENVIRONMENTS_KEY]["staging"] = {"region": "eu-west-1", "maturity": 2}
    sources = {setting.path: setting.source for setting in resolve("staging", context=context).settings}
    given = {path for path, source in sources.items() if source != DEFAULT_SOURCE}
    assert given == {"project", "region", "maturity"}
    assert sources["region"] == "cdk.json:context.omni:environments.staging.region"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "qa"], "omni config: error: env = 'qa': unknown environment; allowed: dev, prod\n"),
        (["--env", "dev", "--maturity", "9"], "omni config: error: maturity = '9': must be one of 1 Disjointed"),
    ],
)
def test_a_bad_selection_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "show", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1
    assert captured.out == ""
