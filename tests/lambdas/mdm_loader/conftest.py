"""Fixtures of the MDM loader tests: one real run of the local matching engine, moto S3 and DynamoDB, the handler.

The run is produced by the same code `omni mdm dedupe` runs (`glue_jobs.dedupe`), so
the loader is tested against the producer's real output, not a hand-written copy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from glue_jobs.dedupe import DedupeResult, dedupe, write_run
from glue_jobs.matching_model import MatchSettings
from glue_jobs.run_layout import manifest_key
from glue_jobs.synthetic_customers import generate_customers
from mdm_loader import dependencies
from mdm_loader.constants import ENV_CURATED_BUCKET
from tests.lambdas.conftest import REGION, TABLES, FakeLambdaContext, create_tables

EVENTS = Path(__file__).resolve().parents[3] / "sample_events" / "mdm-loader"  # shared with `omni lambda invoke`
RUN_ID = "20261104T120000Z"
BUCKET = "test-curated"
MDM_PREFIX = "mdm/"
CUSTOMER_TABLE, IDENTITY_TABLE = TABLES["CUSTOMER_TABLE_NAME"], TABLES["IDENTITY_TABLE_NAME"]


@dataclass(frozen=True)
class PublishedRun:
    result: DedupeResult
    folder: Path
    run_id: str

    @property
    def manifest_key(self) -> str:
        return manifest_key(self.run_id)

    def golden_lines(self) -> list[dict[str, Any]]:
        return [json.loads(record.to_json()) for record in self.result.golden_records]


@pytest.fixture(scope="session")
def published_run(tmp_path_factory: pytest.TempPathFactory) -> PublishedRun:
    """~200 synthetic customers matched and published once per session by the local engine."""
    records = generate_customers(200, seed=5).drop(columns="entity_id")
    result = dedupe(records, settings=MatchSettings(u_max_pairs=1e5))
    folder = tmp_path_factory.mktemp("mdm-run")
    write_run(result, folder, RUN_ID)
    return PublishedRun(result=result, folder=folder, run_id=RUN_ID)


def load_event(name: str) -> dict[str, Any]:
    """A stored EventBridge event: sample_events/mdm-loader/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def manifest_event(key: str, *, bucket: str = BUCKET) -> dict[str, Any]:
    event = copy.deepcopy(load_event("s3_manifest_created"))
    event["detail"]["bucket"]["name"] = bucket
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["object"]["key"] = key
    return event


def upload(s3: Any, folder: Path, *, prefix: str = MDM_PREFIX, bucket: str = BUCKET) -> None:
    """Copy a local run to S3 the way the Glue job lays it out, manifest last."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    for path in sorted(files, key=lambda path: path.name == "manifest.json"):
        s3.put_object(Bucket=bucket, Key=prefix + path.relative_to(folder).as_posix(), Body=path.read_bytes())


@pytest.fixture(autouse=True)
def curated_bucket_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_CURATED_BUCKET, BUCKET)


@dataclass(frozen=True)
class Aws:
    s3: Any
    dynamodb: Any

    def scan(self, table: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
        items = [item for page in pages for item in page["Items"]]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto S3 (the curated bucket) and DynamoDB (the tables as deployed); the handler rebuilds its clients inside."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        dependencies.use(None)
        yield Aws(s3=s3, dynamodb=client)
        dependencies.use(None)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(aws: Aws) -> Invoke:
    """Call the handler in-process, as EventBridge's asynchronous invocation would."""
    from mdm_loader.handler import lambda_handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, FakeLambdaContext(function_name="mdm-loader"))

    return call
