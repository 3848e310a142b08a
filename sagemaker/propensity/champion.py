"""The champion: the current approved model, scored on the challenger's holdout so the two compare like with like.

The retraining pipeline passes the approved model package's `model.tar.gz` as the
training job's optional `champion` channel. Training unpacks it, scores the same
comparison holdout (`propensity.holdout`) the challenger's `validation:auc` comes from, and reports
`champion:auc`; the pipeline promotes the challenger only when it beats that by the
configured margin. A champion that cannot score the new rows (its features are no
longer in the training table) is reported with the reason and no `champion:auc`.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from propensity.data import DataError, Row, labels
from propensity.features import FeatureError
from propensity.metrics import evaluate
from propensity.training import MODEL_FILE, TrainedModel, load

ARCHIVE = "model.tar.gz"


def unpack(location: Path, into: Path) -> Path:
    """The model folder of a champion channel: a folder with model.tar.gz (or the archive itself), or a model folder."""
    if location.is_dir() and (location / MODEL_FILE).is_file():
        return location
    archive = location / ARCHIVE if location.is_dir() else location
    if not archive.is_file():
        raise DataError(f"{location}: no {ARCHIVE} and no {MODEL_FILE}: not a model")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as packed:
        members = packed.getmembers()
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
                raise DataError(f"{archive}: refusing the archive entry {member.name!r}")
        packed.extractall(into, members=members)  # noqa: S202 - every entry checked above
    if not (into / MODEL_FILE).is_file():
        raise DataError(f"{archive}: no {MODEL_FILE} inside")
    return into


def score(model: TrainedModel, holdout: Sequence[Row], *, target: str) -> dict[str, Any]:
    """The champion's metrics on the holdout, or the reason it cannot score it (`error`)."""
    try:
        metrics = evaluate(labels(holdout, target), model.score(holdout))
    except FeatureError as error:
        return {"error": f"the champion cannot score the holdout: {error}"}
    return {name: metrics[name] for name in ("auc", "brier_score", "calibration_error", "rows")}


def load_champion(location: Path, workdir: Path) -> TrainedModel:
    return load(unpack(location, workdir))
