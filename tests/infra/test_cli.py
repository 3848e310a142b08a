"""The omni command line wires every subcommand, and reports user errors as one line with exit code 2."""

from __future__ import annotations

import pytest

from omni_cli.main import build_parser, main


def test_every_subcommand_is_wired() -> None:
    subparsers = next(action for action in build_parser()._actions if action.dest == "command")
    choices = subparsers.choices  # type: ignore[attr-defined]
    expected = {
        "stages",
        "config",
        "assembly",
        "demo",
        "diagram",
        "flows",
        "mdm",
        "propensity",
        "events",
        "state-changes",
        "sandbox",
        "lambda",
        "plan",
        "cost",
    }
    assert set(choices) == expected


def test_stages_prints_the_table_for_an_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stages", "--env", "prod"]) == 0
    out = capsys.readouterr().out
    assert "omni-cx / prod (eu-west-2): configured stage 1 Disjointed (*)" in out
    assert "omni-cx-prod-profiles" in out


def test_a_user_error_is_one_line_and_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stages", "--env", "qa"]) == 2
    assert capsys.readouterr().err == "omni stages: error: env = 'qa': unknown environment; allowed: dev, prod\n"
