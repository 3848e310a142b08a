"""Training and inference on a small sample: script-mode arguments, artefacts, metrics, and the serving contract."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from infra.stacks.propensity_stack import AUC_METRIC_REGEX
from propensity import inference, train
from propensity.data import DataError, Row
from propensity.metrics import evaluate, precision_at_top_decile, reliability
from propensity.training import (
    BASELINE_FILE,
    CALIBRATION_FILE,
    METRICS_FILE,
    MODEL_FILE,
    SPEC_FILE,
    TrainedModel,
    cross_validate,
    fit,
    load,
    save,
)

from .conftest import FAST, SAMPLE


def test_given_sagemaker_environment_when_parsing_then_locations_default_to_the_sm_variables(tmp_path: Path) -> None:
    environ = {
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
    }
    args = train.parse_args(["--num_round", "50", "--drop", "duration,pdays", "--max-depth", "3"], environ)
    assert (args.model_dir, args.train, args.output_data_dir, args.validation) == (
        Path("/opt/ml/model"),
        Path("/opt/ml/input/data/train"),
        Path("/opt/ml/output/data"),
        None,
    )
    chosen = train.hyperparameters(args)
    assert (chosen.num_round, chosen.max_depth, chosen.eta) == (50, 3, 0.05)
    assert args.drop == ["duration", "pdays"]


def test_given_no_train_channel_when_parsing_then_it_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        train.parse_args([], {})


def test_given_a_train_channel_when_run_then_model_spec_and_metrics_are_written(tmp_path: Path) -> None:
    model_dir, output = tmp_path / "model", tmp_path / "output"
    args = train.parse_args(
        ["--drop", "duration", "--num_round", "30", "--nthread", "1", "--folds", "3"],
        {"SM_MODEL_DIR": str(model_dir), "SM_CHANNEL_TRAIN": str(SAMPLE), "SM_OUTPUT_DATA_DIR": str(output)},
    )
    metrics = train.run(args)
    assert {p.name for p in model_dir.iterdir()} == {
        MODEL_FILE,
        SPEC_FILE,
        METRICS_FILE,
        CALIBRATION_FILE,
        BASELINE_FILE,
    }
    written = json.loads((model_dir / METRICS_FILE).read_text())
    assert written == json.loads((output / METRICS_FILE).read_text()) == json.loads(json.dumps(metrics))
    assert written["evaluation"] == "3-fold"
    assert len(written["fold_aucs"]) == 3
    assert 0.65 < written["auc"] <= 1
    assert {"precision_at_top_decile", "brier_score", "reliability", "base_rate"} <= set(written)
    assert "duration" not in json.loads((model_dir / SPEC_FILE).read_text())["feature_names"]


def test_given_a_validation_channel_when_run_then_metrics_come_from_it(
    tmp_path: Path, rows: list[Row], capsys: pytest.CaptureFixture[str]
) -> None:
    validation = tmp_path / "validation"
    validation.mkdir()
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(row[name] for name in header) for row in rows[:600]]
    (validation / "data.csv").write_text("\n".join(lines) + "\n")
    args = train.parse_args(
        ["--drop", "duration", "--num_round", "20", "--validation", str(validation)],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(SAMPLE)},
    )
    metrics = train.run(args)
    # Half the 600 validation rows stop the training early; the metrics come from the other half.
    assert (metrics["evaluation"], metrics["rows"], metrics["early_stopping_rows"]) == ("validation", 300, 300)
    # The training job's metric definition reads this line for the pipeline's AUC gate.
    printed = re.findall(AUC_METRIC_REGEX, capsys.readouterr().out)
    assert [float(value) for value in printed] == [metrics["auc"]]


def test_given_a_saved_model_when_served_then_scores_match_the_trained_model(
    model_dir: Path, trained: TrainedModel, rows: list[Row]
) -> None:
    served_rows = [{k: v for k, v in row.items() if k not in ("y", "duration")} for row in rows[:25]]
    model = inference.model_fn(str(model_dir))
    records = inference.input_fn(json.dumps(served_rows), "application/json")
    body, content_type = inference.output_fn(inference.predict_fn(records, model), "application/json")
    answer = json.loads(body)
    assert content_type == "application/json"
    np.testing.assert_allclose(answer["scores"], trained.score(rows[:25]), atol=1e-6)
    assert answer["model_version"] == inference.model_version(model_dir)
    assert re.fullmatch(r"xgb-[0-9a-f]{16}", answer["model_version"])


def test_given_the_same_artefacts_when_loaded_twice_then_the_version_is_the_same_and_a_retrained_model_differs(
    model_dir: Path, rows: list[Row], tmp_path: Path
) -> None:
    assert inference.model_fn(str(model_dir)).version == inference.model_fn(str(model_dir)).version
    retrained = tmp_path / "retrained"
    save(fit(rows[:1500], target="y", drop=["duration"], hyperparameters=FAST), retrained, {"auc": 0.5})
    assert inference.model_version(retrained) != inference.model_version(model_dir)


def test_given_a_feature_definition_that_changes_when_versioned_then_the_version_changes(
    model_dir: Path, tmp_path: Path
) -> None:
    copied = tmp_path / "copied"
    shutil.copytree(model_dir, copied)
    spec = copied / SPEC_FILE
    spec.write_text(spec.read_text() + " ")
    assert inference.model_version(copied) != inference.model_version(model_dir)


def test_given_one_object_with_numbers_as_json_when_served_then_one_score_comes_back(
    model_dir: Path, rows: list[Row]
) -> None:
    customer = {k: v for k, v in rows[0].items() if k != "y"}
    customer.update(age=int(rows[0]["age"]), euribor3m=float(rows[0]["euribor3m"]), job="astronaut")
    model = inference.model_fn(str(model_dir))
    prediction = inference.predict_fn(inference.input_fn(json.dumps(customer).encode(), "application/json"), model)
    assert len(prediction.scores) == 1
    assert 0 <= prediction.scores[0] <= 1
    assert prediction.model_version == model.version


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        ("{}", "text/csv", "Content-Type"),
        ("{not json", "application/json", "body"),
        ("[]", "application/json", "body"),
        ("[1, 2]", "application/json", "[0]"),
    ],
)
def test_given_a_bad_request_when_parsed_then_the_error_names_the_field(
    body: str, content_type: str, field: str
) -> None:
    with pytest.raises(inference.InvalidInput) as raised:
        inference.input_fn(body, content_type)
    assert raised.value.field == field


def test_given_a_customer_without_a_required_attribute_when_scored_then_the_error_names_it(
    model_dir: Path, rows: list[Row]
) -> None:
    customer = {k: v for k, v in rows[0].items() if k not in ("y", "euribor3m")}
    with pytest.raises(inference.InvalidInput) as raised:
        inference.predict_fn([customer], inference.model_fn(str(model_dir)))
    assert raised.value.field == "euribor3m"
    assert isinstance(raised.value, ValueError)


def test_cross_validation_scores_every_row_out_of_fold(rows: list[Row]) -> None:
    result = cross_validate(rows[:1200], target="y", drop=["duration"], folds=3, hyperparameters=FAST)
    assert len(result.fold_aucs) == 3
    assert result.metrics["rows"] == 1200


def test_a_target_with_one_class_is_refused(rows: list[Row]) -> None:
    negatives = [row for row in rows if row["y"] == "no"][:50]
    with pytest.raises(DataError, match="one class"):
        cross_validate(negatives, target="y", folds=2, hyperparameters=FAST)


def test_metrics_on_known_scores() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    scores = np.array([0.95, 0.9, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05])
    assert precision_at_top_decile(labels, scores) == 1.0
    bins = reliability(labels, scores)
    assert [(b["lower"], b["count"]) for b in bins] == [(0.0, 5), (0.1, 3), (0.9, 2)]
    metrics = evaluate(labels, scores)
    assert metrics["auc"] == pytest.approx(0.9375)
    assert metrics["brier_score"] == pytest.approx(float(np.mean((scores - labels) ** 2)), abs=1e-4)


def test_saved_artefacts_load_back_to_the_same_scores(model_dir: Path, trained: TrainedModel, rows: list[Row]) -> None:
    np.testing.assert_array_equal(load(model_dir).score(rows[:100]), trained.score(rows[:100]))
