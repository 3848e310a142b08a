"""Script-mode training with the validation and champion channels: early stopping on half the validation rows,
calibrated metrics and the champion's on the other half (the comparison holdout), and the feature baseline beside
the model (and as its own S3 object)."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from propensity import train
from propensity.champion import unpack
from propensity.data import DataError, Row, labels
from propensity.holdout import split_validation
from propensity.metrics import evaluate
from propensity.training import BASELINE_FILE, METRICS_FILE, MODEL_FILE, TrainedModel, load

from .conftest import SAMPLE

FEW_ROUNDS = ["--num_round", "400", "--nthread", "1", "--folds", "2", "--drop", "duration"]


def _channel(directory: Path, rows: list[Row]) -> Path:
    directory.mkdir(parents=True)
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(row[name] for name in header) for row in rows]
    (directory / "data.csv").write_text("\n".join(lines) + "\n")
    return directory


def _archive(model_dir: Path, into: Path) -> Path:
    into.mkdir(parents=True)
    with tarfile.open(into / "model.tar.gz", "w:gz") as packed:
        for path in model_dir.iterdir():
            packed.add(path, arcname=path.name)
    return into


@pytest.fixture(scope="module")
def split(rows: list[Row], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Row]]:
    root = tmp_path_factory.mktemp("channels")
    return _channel(root / "train", rows[:2000]), _channel(root / "validation", rows[2000:]), rows[2000:]


def test_the_champion_is_scored_on_the_challengers_comparison_holdout_and_both_aucs_are_printed(
    split: tuple[Path, Path, list[Row]],
    model_dir: Path,
    trained: TrainedModel,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    train_channel, validation_channel, validation = split
    # The comparison holdout: the validation rows early stopping did not watch.
    held_out = split_validation(validation, target="y").comparison
    args = train.parse_args(
        [*FEW_ROUNDS, "--validation", str(validation_channel)],
        {
            "SM_MODEL_DIR": str(tmp_path / "model"),
            "SM_CHANNEL_TRAIN": str(train_channel),
            "SM_CHANNEL_CHAMPION": str(_archive(model_dir, tmp_path / "champion")),
            "SM_OUTPUT_DATA_DIR": str(tmp_path / "output"),
        },
    )
    metrics = train.run(args)
    out = capsys.readouterr().out
    expected = evaluate(labels(held_out, "y"), trained.score(held_out))["auc"]
    assert metrics["champion"]["auc"] == expected
    assert metrics["champion"]["rows"] == metrics["rows"] == len(held_out) < len(validation)
    # The challenger's own figures come from the same rows.
    challenger = evaluate(labels(held_out, "y"), load(tmp_path / "model").score(held_out))
    assert (metrics["auc"], metrics["brier_score"]) == (challenger["auc"], challenger["brier_score"])
    assert re.findall(r"champion:auc=([0-9.]+);", out) == [str(expected)]
    assert re.findall(r"validation:auc=([0-9.]+);", out) == [str(metrics["auc"])]
    assert re.findall(r"validation:brier=([0-9.]+);", out) == [str(metrics["brier_score"])]
    # Early stopping on the validation channel's other half kept fewer rounds than the most allowed.
    assert metrics["hyperparameters"]["num_round"] < 400
    assert metrics["early_stopping_rows"] == len(validation) - len(held_out)
    assert load(tmp_path / "model").booster.num_boosted_rounds() == metrics["hyperparameters"]["num_round"]
    assert metrics["calibration"]["measured_on"].startswith(
        f"the {len(held_out)} comparison rows of the validation set"
    )
    written = json.loads((tmp_path / "model" / METRICS_FILE).read_text())
    assert written["champion"] == metrics["champion"]
    baseline = json.loads((tmp_path / "output" / BASELINE_FILE).read_text())
    assert baseline == json.loads((tmp_path / "model" / BASELINE_FILE).read_text())
    assert baseline["version"] == 1


def test_without_a_champion_no_champion_metric_is_printed(
    split: tuple[Path, Path, list[Row]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_channel, validation_channel, _ = split
    args = train.parse_args(
        [*FEW_ROUNDS, "--validation", str(validation_channel)],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(train_channel)},
    )
    metrics = train.run(args)
    assert "champion" not in metrics
    assert "champion:" not in capsys.readouterr().out


def test_a_champion_that_cannot_score_the_new_rows_is_reported_without_a_metric(
    split: tuple[Path, Path, list[Row]], trained: TrainedModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_channel, _, held_out = split
    without_age = tmp_path / "validation"
    _channel(without_age, [{k: v for k, v in row.items() if k != "age"} for row in held_out])
    train_without_age = tmp_path / "train"
    _channel(train_without_age, [{k: v for k, v in row.items() if k != "age"} for row in load_rows(train_channel)])
    champion = tmp_path / "champion-model"
    from propensity.training import save

    save(trained, champion, {"auc": 0.5})
    args = train.parse_args(
        [*FEW_ROUNDS, "--validation", str(without_age), "--champion", str(champion)],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(train_without_age)},
    )
    metrics = train.run(args)
    assert metrics["champion"] == {"error": "the champion cannot score the holdout: age: required attribute is missing"}
    out = capsys.readouterr().out
    assert "champion:auc" not in out
    assert "champion not compared" in out


def load_rows(channel: Path) -> list[Row]:
    from propensity.data import read_dataset

    return read_dataset(channel)


def test_a_champion_without_a_validation_channel_is_refused(model_dir: Path, tmp_path: Path) -> None:
    args = train.parse_args(
        [*FEW_ROUNDS, "--champion", str(model_dir)],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(SAMPLE)},
    )
    with pytest.raises(DataError, match="needs a validation channel"):
        train.run(args)


def test_an_archive_that_would_write_outside_its_folder_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "model.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as packed:
        packed.add(payload, arcname="../escaped.json")
    with pytest.raises(DataError, match="refusing the archive entry"):
        unpack(evil, tmp_path / "out")
    assert not (tmp_path / "escaped.json").exists()


def test_a_folder_without_a_model_is_not_a_champion(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=f"no model.tar.gz and no {MODEL_FILE}"):
        unpack(tmp_path, tmp_path / "out")


@mock_aws
def test_the_baseline_is_also_written_as_its_own_object_when_a_uri_is_given(tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="curated")
    args = train.parse_args(
        [*FEW_ROUNDS, "--num_round", "20", "--baseline-uri", "s3://curated/propensity/runs/r1/feature_baseline.json"],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(SAMPLE)},
    )
    train.run(args)
    stored = s3.get_object(Bucket="curated", Key="propensity/runs/r1/feature_baseline.json")["Body"].read()
    assert json.loads(stored) == json.loads((tmp_path / "model" / BASELINE_FILE).read_text())


def test_a_baseline_uri_that_is_not_s3_is_refused(tmp_path: Path) -> None:
    args = train.parse_args(
        [*FEW_ROUNDS, "--num_round", "10", "--baseline-uri", "file:///tmp/x.json"],
        {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(SAMPLE)},
    )
    with pytest.raises(DataError, match="expected s3://bucket/key"):
        train.run(args)
