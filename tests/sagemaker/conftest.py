"""Shared fixtures of the propensity tests: a 3,000-row sample of the bank data and one model trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from propensity.data import Row, read_dataset
from propensity.training import Hyperparameters, TrainedModel, fit, save

SAMPLE = Path(__file__).parent / "data" / "bank-sample.csv.gz"
# Fewer rounds than the shipped default: the contract is under test here, not the model's quality.
FAST = Hyperparameters(num_round=40, nthread=1)


@pytest.fixture(scope="session")
def rows() -> list[Row]:
    return read_dataset(SAMPLE)


@pytest.fixture(scope="session")
def trained(rows: list[Row]) -> TrainedModel:
    return fit(rows, target="y", drop=["duration"], hyperparameters=FAST)


@pytest.fixture(scope="session")
def model_dir(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model")
    save(trained, directory, {"auc": 0.5})
    return directory
