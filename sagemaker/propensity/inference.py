"""SageMaker inference handlers (XGBoost framework container, script mode): raw customer attributes in, scores out.

Request: `application/json`, one object of attributes or a list of them, keyed
by the column names of the model's feature definition (extra keys are ignored,
a missing one is an error naming it, null means unknown). Response:

    {"scores": [p, ...], "model_version": "xgb-<hash>",
     "contributions": [[{"feature": "<column>", "value": <as sent, or null>, "contribution": <log-odds>}, ...], ...]}

one calibrated probability per object, in order, the version of the model that
produced them, and per object its 3 input columns that moved its score most
(`propensity.explain`: XGBoost's own per-feature contributions, summed per column,
largest absolute first). Callers that read only `scores` are unaffected.

The saved artefacts carry no training id, so the version is a digest of what
is served: the booster, the feature definition and the calibration. Two endpoints
serving the same artefacts report the same version; any retraining changes it.
Callers that record a score (the rescorer) store this version beside it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from propensity.explain import Contribution
from propensity.features import FeatureError
from propensity.training import CALIBRATION_FILE, MODEL_FILE, SPEC_FILE, TrainedModel, load

JSON = "application/json"
VERSION_PREFIX = "xgb-"
VERSION_DIGEST_LENGTH = 16  # hex characters of the SHA-256: 64 bits, ample for telling retrainings apart


class InvalidInput(ValueError):  # noqa: N818 - the name the caller sees in the container's error answer
    """The request cannot be scored; `field` names the offending attribute (a client error, not a model fault)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ServedModel:
    model: TrainedModel
    version: str


@dataclass(frozen=True)
class Prediction:
    scores: list[float]
    model_version: str
    contributions: list[list[Contribution]] = field(default_factory=list)  # per score; empty: none computed


def model_version(model_dir: Path) -> str:
    """The version of the artefacts in `model_dir`: a digest of the booster, the feature definition and the
    calibration (a model saved before calibration existed keeps the digest it had)."""
    digest = hashlib.sha256()
    for name in (MODEL_FILE, SPEC_FILE, CALIBRATION_FILE):
        if name == CALIBRATION_FILE and not (model_dir / name).is_file():
            continue
        content = (model_dir / name).read_bytes()
        # Length-prefixed, so moving bytes from one file to the other changes the digest.
        digest.update(len(content).to_bytes(8, "big"))
        digest.update(content)
    return VERSION_PREFIX + digest.hexdigest()[:VERSION_DIGEST_LENGTH]


def model_fn(model_dir: str) -> ServedModel:
    directory = Path(model_dir)
    return ServedModel(load(directory), model_version(directory))


def input_fn(request_body: str | bytes, request_content_type: str) -> list[dict[str, Any]]:
    if (request_content_type or "").split(";")[0].strip().lower() != JSON:
        raise InvalidInput(f"send {JSON}, not {request_content_type!r}", field="Content-Type")
    try:
        document = json.loads(request_body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("the body is not valid JSON", field="body") from None
    records = document if isinstance(document, list) else [document]
    if not records:
        raise InvalidInput("send at least one customer", field="body")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidInput("each customer must be a JSON object of attributes", field=f"[{index}]")
    return records


def predict_fn(input_data: list[dict[str, Any]], model: ServedModel) -> Prediction:
    try:
        scores = [float(score) for score in model.model.score(input_data)]
        contributions = model.model.explain(input_data)
    except FeatureError as error:
        raise InvalidInput(str(error).removeprefix(f"{error.field}: "), field=error.field) from None
    return Prediction(scores, model.version, contributions)


def output_fn(prediction: Prediction, accept: str) -> tuple[str, str]:
    if accept and (accept.split(";", maxsplit=1)[0].strip().lower() not in (JSON, "*/*")):
        raise InvalidInput(f"only {JSON} answers are available, not {accept!r}", field="Accept")
    answer = {
        "scores": [round(score, 6) for score in prediction.scores],
        "model_version": prediction.model_version,
        "contributions": prediction.contributions or [[] for _ in prediction.scores],
    }
    return json.dumps(answer), JSON
