"""The search space as data (shared with SageMaker's tuner) and the local cross-validated search."""

from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from propensity import search_space, train
from propensity.data import Row
from propensity.search_space import SEARCH_SPACE, parameter_ranges, sample_candidates
from propensity.training import Hyperparameters
from propensity.tuning import TuningOptions, searched, tune

from .conftest import FAST

QUICK = TuningOptions(candidates=3, folds=2, early_stopping_rounds=10, max_rounds=120)


def test_the_space_imports_only_the_standard_library_so_the_cdk_app_can_read_it() -> None:
    tree = ast.parse(Path(search_space.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_the_tuning_jobs_ranges_name_every_searched_parameter_once_with_its_bounds() -> None:
    ranges = parameter_ranges()
    assert set(ranges) == {"IntegerParameterRanges", "ContinuousParameterRanges"}
    by_name = {item["Name"]: item for kind in ranges.values() for item in kind}
    assert sorted(by_name) == sorted(item.name for item in SEARCH_SPACE)
    assert by_name["max_depth"] in ranges["IntegerParameterRanges"]
    assert by_name["max_depth"]["MinValue"] == "2"
    for item in SEARCH_SPACE:
        entry = by_name[item.name]
        assert float(entry["MinValue"]) < float(entry["MaxValue"])
        assert entry["ScalingType"] in ("Linear", "Logarithmic")


def test_the_tuner_can_pass_every_searched_parameter_to_the_training_script() -> None:
    argv = ["--_tuning_objective_metric", "validation:auc"]
    for item in SEARCH_SPACE:
        argv += [f"--{item.name}", str(int(item.high) if item.integer else item.high)]
    args = train.parse_args(argv, {"SM_MODEL_DIR": "/opt/ml/model", "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train"})
    chosen = train.hyperparameters(args)
    assert searched(chosen) == {item.name: (int(item.high) if item.integer else item.high) for item in SEARCH_SPACE}
    assert chosen.params()["reg_lambda"] == 20.0


def test_candidates_are_seeded_and_inside_the_space() -> None:
    first, again, other = sample_candidates(20, seed=7), sample_candidates(20, seed=7), sample_candidates(20, seed=8)
    assert first == again
    assert first != other
    for candidate in first:
        for item in SEARCH_SPACE:
            assert item.low <= candidate[item.name] <= item.high
            assert isinstance(candidate[item.name], int) == item.integer


def test_the_search_tries_the_shipped_parameters_first_and_keeps_the_best(rows: list[Row]) -> None:
    result = tune(rows[:1500], target="y", drop=["duration"], base=FAST, options=QUICK)
    assert result.trials[0].parameters == searched(FAST)
    assert len(result.trials) == 3
    winner = max(result.trials, key=lambda trial: trial.auc)
    assert searched(result.best) == winner.parameters
    assert result.best.num_round == winner.rounds <= QUICK.max_rounds
    assert (result.best.seed, result.best.nthread) == (FAST.seed, FAST.nthread)
    report = result.report()
    assert report["chosen"] == {**winner.parameters, "num_round": winner.rounds}
    assert (report["tried"], report["planned"]) == (3, 3)


def test_the_same_seed_gives_the_same_choice(rows: list[Row]) -> None:
    options = replace(QUICK, candidates=2)
    first = tune(rows[:1000], target="y", drop=["duration"], base=FAST, options=options)
    second = tune(rows[:1000], target="y", drop=["duration"], base=FAST, options=options)
    assert first.report()["trials"] == [
        {**trial, "seconds": first.report()["trials"][i]["seconds"]}
        for i, trial in enumerate(second.report()["trials"])
    ]


def test_the_time_budget_stops_the_search_after_the_first_candidate(rows: list[Row]) -> None:
    messages: list[str] = []
    result = tune(
        rows[:1000],
        target="y",
        drop=["duration"],
        base=FAST,
        options=replace(QUICK, time_budget_s=1e-6),
        progress=messages.append,
    )
    assert len(result.trials) == 1
    assert result.report()["tried"] == 1
    assert any("time budget" in message and "1 of 3 tried" in message for message in messages)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"candidates": 0}, "at least 1 candidate"),
        ({"folds": 1}, "at least 2 folds"),
        ({"time_budget_s": 0}, "positive"),
    ],
)
def test_bad_search_options_are_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TuningOptions(**options)  # type: ignore[arg-type]


def test_the_shipped_parameters_lie_inside_the_space() -> None:
    shipped = searched(Hyperparameters())
    for item in SEARCH_SPACE:
        assert item.low <= shipped[item.name] <= item.high
