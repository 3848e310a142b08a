"""Where the drift job reads from: the serving model's baseline, and the window's live inputs.

Baseline: the endpoint names its config, the config its model, the model its
artefacts (`ModelDataUrl`, or the registered model package's); training packs
`feature_baseline.json` into that `model.tar.gz`, so the baseline is always the
one of the model serving now, whichever run or registry approval put it there.

Live inputs: the eligibility decision log. Every decision records the exact
inputs the model was sent (its audit record's `inputs`, plus `product`), the
time, and nothing personal, encrypted and expiring by TTL; reading them back
needs no second copy of customer data. The table is keyed by customer, so the
window is a filtered Scan of the inputs and product only, stopped at `limit`
rows: the scan order follows the hash of the customer id, so the rows read are
a sample of the window's customers unrelated to their features.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from feature_drift.constants import BASELINE_FILE, MAX_ARTEFACT_BYTES
from feature_drift.psi import Baseline

_deserializer = TypeDeserializer()


class BaselineUnavailable(Exception):  # noqa: N818 - an outcome the job reports, not a fault of its own
    """No serving model, or its artefacts hold no readable baseline; the message says which."""


def serving_model_data(sagemaker: Any, endpoint_name: str) -> str:
    """The S3 URL of the `model.tar.gz` the endpoint serves."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        raise BaselineUnavailable(f"endpoint {endpoint_name}: {error.response['Error'].get('Message', '')}") from None
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    if container.get("ModelDataUrl"):
        return str(container["ModelDataUrl"])
    if container.get("ModelPackageName"):
        package = sagemaker.describe_model_package(ModelPackageName=container["ModelPackageName"])
        return str(package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"])
    raise BaselineUnavailable(f"model {model.get('ModelName')} names no model artefacts")


def read_baseline(s3: Any, model_data_url: str) -> Baseline:
    """`feature_baseline.json` from the model artefacts (a tar.gz, as SageMaker packs them)."""
    bucket, _, key = model_data_url.removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_ARTEFACT_BYTES + 1)
    if len(body) > MAX_ARTEFACT_BYTES:
        raise BaselineUnavailable(f"{model_data_url} is larger than {MAX_ARTEFACT_BYTES} bytes")
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as archive:
            member = next((m for m in archive.getmembers() if posixpath.basename(m.name) == BASELINE_FILE), None)
            extracted = archive.extractfile(member) if member is not None and member.isfile() else None
            if extracted is None:
                raise BaselineUnavailable(f"{model_data_url} holds no {BASELINE_FILE}: retrain to write one")
            document = json.loads(extracted.read())
    except (tarfile.TarError, OSError, json.JSONDecodeError) as error:
        raise BaselineUnavailable(f"{model_data_url}: {BASELINE_FILE} unreadable ({error})") from None
    try:
        return Baseline.model_validate(document)
    except ValueError as error:
        raise BaselineUnavailable(f"{model_data_url}: {BASELINE_FILE} is not a baseline: {error}") from None


def decision_inputs(dynamodb: Any, table_name: str, *, since: datetime, limit: int) -> list[dict[str, Any]]:
    """The model inputs of up to `limit` decisions made at or after `since` (each row: the inputs and product)."""
    rows: list[dict[str, Any]] = []
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        # decided_at is ISO-8601 in UTC: the string order is the time order.
        FilterExpression="#at >= :since",
        ProjectionExpression="#inputs, #product",
        ExpressionAttributeNames={"#at": "decided_at", "#inputs": "inputs", "#product": "product"},
        ExpressionAttributeValues={":since": {"S": since.strftime("%Y-%m-%dT%H:%M:%S")}},
    )
    for page in pages:
        for item in page.get("Items", []):
            record = {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}
            rows.append({**(record.get("inputs") or {}), "product": record.get("product")})
            if len(rows) >= limit:
                return rows
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    return value
