"""The feature baseline training writes for the drift job (`feature_baseline.json`, version 1)."""

from __future__ import annotations

import json
import math

import pytest

from propensity.baseline import OTHER, feature_baseline, numeric_bin
from propensity.data import Row
from propensity.features import FeatureSpec
from propensity.training import TrainedModel


def _spec(rows: list[dict[str, str]]) -> FeatureSpec:
    return FeatureSpec.fit(rows, target="y")


def test_numeric_columns_get_the_nine_training_deciles_and_ten_proportions() -> None:
    rows = [{"spend": str(value), "y": "0"} for value in range(1, 101)] + [{"spend": "", "y": "1"}]
    entry = feature_baseline(rows, _spec(rows))["features"]["spend"]
    assert entry["kind"] == "numeric"
    assert entry["edges"] == pytest.approx([10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1])
    assert entry["proportions"] == [0.1] * 10  # the missing value is left out
    assert math.isclose(sum(entry["proportions"]), 1.0)


def test_a_value_on_an_edge_falls_in_the_lower_bin() -> None:
    edges = [1.0, 2.0, 3.0]
    assert [numeric_bin(v, edges) for v in (0.5, 1.0, 1.5, 3.0, 3.5)] == [0, 0, 1, 2, 3]


def test_repeated_values_leave_empty_bins_and_the_proportions_still_sum_to_one() -> None:
    rows = [{"complaints": "0", "y": "0"}] * 80 + [{"complaints": "2", "y": "1"}] * 20
    entry = feature_baseline(rows, _spec(rows))["features"]["complaints"]
    assert entry["proportions"][0] == 0.8  # every 0 is at or under the first decile
    assert math.isclose(sum(entry["proportions"]), 1.0)


def test_categorical_columns_get_each_training_category_and_an_empty_other() -> None:
    rows = [{"channel": c, "y": "0"} for c in ["email"] * 3 + ["sms"] + [""]]
    entry = feature_baseline(rows, _spec(rows))["features"]["channel"]
    assert entry == {"kind": "categorical", "proportions": {"email": 0.75, "sms": 0.25, OTHER: 0.0}}


def test_a_column_never_filled_in_training_is_left_out() -> None:
    rows = [{"age": "", "channel": "sms", "y": "0"}, {"age": "", "channel": "app", "y": "1"}]
    assert set(feature_baseline(rows, _spec(rows))["features"]) == {"channel"}


def test_the_bank_samples_baseline_covers_every_model_input(trained: TrainedModel, rows: list[Row]) -> None:
    document = json.loads(json.dumps(feature_baseline(rows, trained.spec)))
    assert document["version"] == 1
    assert set(document["features"]) == set(trained.spec.input_names)
    assert document["features"]["job"]["kind"] == "categorical"
    assert len(document["features"]["age"]["edges"]) == 9
