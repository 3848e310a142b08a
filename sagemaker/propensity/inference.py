"""SageMaker inference handlers (XGBoost framework container, script mode): raw customer attributes in, scores out.

Request: `application/json`, one object of attributes or a list of them, keyed
by the column names of the model's feature definition (extra keys are ignored,
a missing one is an error naming it, null means unknown). Response:
`{"scores": [p, ...]}`, one probability per object, in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from propensity.features import FeatureError
from propensity.training import TrainedModel, load

JSON = "application/json"


class InvalidInput(ValueError):  # noqa: N818 - the name the caller sees in the container's error answer
    """The request cannot be scored; `field` names the offending attribute (a client error, not a model fault)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def model_fn(model_dir: str) -> TrainedModel:
    return load(Path(model_dir))


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


def predict_fn(input_data: list[dict[str, Any]], model: TrainedModel) -> list[float]:
    try:
        return [float(score) for score in model.score(input_data)]
    except FeatureError as error:
        raise InvalidInput(str(error).removeprefix(f"{error.field}: "), field=error.field) from None


def output_fn(prediction: list[float], accept: str) -> tuple[str, str]:
    if accept and (accept.split(";", maxsplit=1)[0].strip().lower() not in (JSON, "*/*")):
        raise InvalidInput(f"only {JSON} answers are available, not {accept!r}", field="Accept")
    return json.dumps({"scores": [round(score, 6) for score in prediction]}), JSON
