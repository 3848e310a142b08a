"""Per-decision explanations: XGBoost's contributions summed back to the columns the caller sent, top 3 per score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from propensity import inference
from propensity.data import Row
from propensity.explain import column_contributions, top_contributions
from propensity.features import Column, FeatureSpec
from propensity.training import TrainedModel

SPEC = FeatureSpec(
    (
        Column("age", "numeric"),
        Column("job", "categorical", ("admin", "student", "retired")),
        Column("spend", "numeric"),
    ),
    target="y",
)


def test_a_categorical_columns_indicators_are_summed_and_the_bias_is_left_out() -> None:
    # features: age, job=admin, job=student, job=retired, spend, bias
    contributions = np.array([[0.5, 0.1, -0.4, 0.05, 0.2, -2.0]])
    np.testing.assert_allclose(column_contributions(SPEC, contributions), [[0.5, -0.25, 0.2]])


def test_the_top_columns_come_largest_absolute_first_with_the_value_sent() -> None:
    contributions = np.array([[0.1, 0.0, -0.9, 0.0, 0.3, -2.0], [0.0, 0.0, 0.0, 0.0, 0.0, -2.0]])
    rows = [{"age": 41, "job": "student", "spend": None}, {"age": "", "job": "pilot", "spend": 3.5}]
    answer = top_contributions(SPEC, rows, contributions, top=2)
    assert answer[0] == [
        {"feature": "job", "value": "student", "contribution": -0.9},
        {"feature": "spend", "value": None, "contribution": 0.3},
    ]
    # All equal: the feature definition's order; an empty string is a missing value.
    assert [(c["feature"], c["value"]) for c in answer[1]] == [("age", None), ("job", "pilot")]


def test_contributions_of_the_wrong_width_are_refused() -> None:
    with pytest.raises(ValueError, match="expected 5 feature contributions"):
        column_contributions(SPEC, np.zeros((1, 4)))


def test_a_trained_models_contributions_add_up_to_its_log_odds(trained: TrainedModel, rows: list[Row]) -> None:
    sample = rows[:30]
    matrix = xgb.DMatrix(trained.spec.encode(sample), feature_names=trained.spec.feature_names)
    every = trained.booster.predict(matrix, pred_contribs=True)
    per_column = column_contributions(trained.spec, np.asarray(every, dtype=np.float64))
    np.testing.assert_allclose(per_column.sum(axis=1) + every[:, -1], trained.margins(sample), atol=1e-4)
    explained = trained.explain(sample)
    for row, top, columns in zip(sample, explained, per_column, strict=True):
        assert len(top) == 3
        sizes = [abs(item["contribution"]) for item in top]
        assert sizes == sorted(sizes, reverse=True)
        assert sizes[0] == pytest.approx(np.abs(columns).max(), abs=1e-6)
        assert all(item["feature"] in trained.spec.input_names for item in top)
        assert all(item["value"] == row[item["feature"]] for item in top)


def test_the_endpoint_answers_three_contributions_per_score_beside_the_scores(
    model_dir: Path, trained: TrainedModel, rows: list[Row]
) -> None:
    customers = [{k: v for k, v in row.items() if k not in ("y", "duration")} for row in rows[:4]]
    customers[0]["job"] = "astronaut"  # unseen: no indicator, and still named with the value sent
    model = inference.model_fn(str(model_dir))
    body, _ = inference.output_fn(
        inference.predict_fn(inference.input_fn(json.dumps(customers), "application/json"), model), "application/json"
    )
    answer = json.loads(body)
    assert len(answer["scores"]) == len(answer["contributions"]) == 4
    assert answer["contributions"] == json.loads(json.dumps(trained.explain(customers)))
    for top in answer["contributions"]:
        assert [set(item) for item in top] == [{"feature", "value", "contribution"}] * 3


def test_an_answer_built_without_contributions_still_has_one_list_per_score() -> None:
    body, _ = inference.output_fn(inference.Prediction([0.2, 0.4], "xgb-0123456789abcdef"), "application/json")
    assert json.loads(body)["contributions"] == [[], []]
