"""The Glue job scripts' logic, imported and run without awsglue or pyspark."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_jobs import findmatches_job, spark_publication, splink_job
from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.normalise import MATCH_COLUMNS

ARGS = {
    "JOB_NAME": "match",
    "database": "lake",
    "source_table": "source_customers",
    "transform_id": "tfm-1",
    "prepared_path": "s3://curated/mdm/prepared/",
    "output_path": "s3://curated/mdm/findmatches/",
}


def test_given_no_glue_runtime_when_scripts_imported_then_they_load() -> None:
    assert importlib.util.find_spec("awsglue") is None
    assert callable(findmatches_job.run)
    assert callable(splink_job.run)


def test_given_full_mode_arguments_when_parsed_then_options_with_run_folder() -> None:
    options = findmatches_job.parse_options({**ARGS, "run_id": "r1"})
    assert options.mode == "full"
    assert options.matched_path == "s3://curated/mdm/findmatches/run_id=r1/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({k: v for k, v in ARGS.items() if k != "transform_id"}, "--transform_id"),
        ({**ARGS, "mode": "sometimes"}, "--mode must be one of"),
        ({**ARGS, "mode": "incremental"}, "--existing_path"),
    ],
)
def test_given_bad_arguments_when_parsed_then_error_names_the_argument(args: dict[str, str], message: str) -> None:
    with pytest.raises(findmatches_job.JobArgumentError, match=message):
        findmatches_job.parse_options(args)


def test_given_optional_arguments_on_command_line_when_resolved_then_only_present_ones_are_requested() -> None:
    argv = ["script.py", "--JOB_NAME", "j", "--mode", "incremental", "--existing_path", "s3://x/"]
    assert findmatches_job.optional_arguments_present(argv) == ["mode", "existing_path"]


class FakeIO(findmatches_job.JobIO):
    def __init__(self) -> None:
        self.writes: list[tuple[Any, str]] = []

    def read_source(self, database: str, table: str) -> Any:
        return f"source({database}.{table})"

    def with_source_key(self, frame: Any) -> Any:
        return f"keyed({frame})"

    def read_parquet(self, path: str) -> Any:
        return f"parquet({path})"

    def write_parquet(self, frame: Any, path: str) -> None:
        self.writes.append((frame, path))


class FakeTransform:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def apply(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        return "matched"


def test_given_full_mode_when_run_then_prepared_written_find_matches_applied_and_matches_written() -> None:
    io, find_matches, incremental = FakeIO(), FakeTransform(), FakeTransform()
    findmatches_job.run(findmatches_job.parse_options({**ARGS, "run_id": "r1"}), io, find_matches, incremental)
    assert io.writes == [
        ("keyed(source(lake.source_customers))", "s3://curated/mdm/prepared/"),
        ("matched", "s3://curated/mdm/findmatches/run_id=r1/"),
    ]
    assert find_matches.calls[0]["transformId"] == "tfm-1"
    assert incremental.calls == []


def test_given_incremental_mode_when_run_then_find_incremental_matches_gets_previous_output() -> None:
    io, find_matches, incremental = FakeIO(), FakeTransform(), FakeTransform()
    options = findmatches_job.parse_options(
        {**ARGS, "mode": "incremental", "existing_path": "s3://prev/", "run_id": "r"}
    )
    findmatches_job.run(options, io, find_matches, incremental)
    assert incremental.calls[0]["existingFrame"] == "parquet(s3://prev/)"
    assert incremental.calls[0]["incrementalFrame"] == "keyed(source(lake.source_customers))"
    assert find_matches.calls == []


def test_given_splink_job_arguments_when_parsed_then_threshold_and_format_validated() -> None:
    base = {"JOB_NAME": "j", "input_path": "a", "output_path": "b", "TempDir": "s3://curated/tmp/m/"}
    options = splink_job.parse_options(
        base
        | {"input_path": "s3://raw/customers/", "output_path": "s3://curated/mdm/", "threshold": "0.9", "run_id": "r1"}
    )
    assert options.settings.threshold_match_probability == 0.9
    assert options.target.location("runs/x") == "s3://curated/mdm/runs/x"
    assert options.checkpoint_dir == "s3://curated/tmp/m/splink-checkpoints/run_id=r1"
    with pytest.raises(splink_job.JobArgumentError, match="--input_format"):
        splink_job.parse_options(base | {"input_format": "xml"})
    with pytest.raises(splink_job.JobArgumentError, match="--threshold"):
        splink_job.parse_options(base | {"threshold": "2"})


def test_given_no_temp_dir_when_splink_job_arguments_parsed_then_the_error_names_it() -> None:
    # Splink's Spark backend needs a checkpoint folder: without --TempDir the run could not start.
    with pytest.raises(splink_job.JobArgumentError, match="--TempDir"):
        splink_job.parse_options({"JOB_NAME": "j", "input_path": "a", "output_path": "b"})


def test_given_source_batches_when_normalised_for_spark_then_match_schema_columns() -> None:
    batch = pd.DataFrame([dict.fromkeys(SOURCE_COLUMNS) | {"source_system": "crm", "source_id": "1"}])
    (result,) = list(splink_job.normalise_batches(iter([batch])))
    assert tuple(result.columns) == MATCH_COLUMNS
    assert splink_job.MATCH_SCHEMA.split(", ")[0] == "unique_id string"


def test_given_a_cluster_frame_when_survived_for_spark_then_one_golden_row_and_its_links() -> None:
    base = dict.fromkeys(SOURCE_COLUMNS) | {"email": "A@x.com", "updated_at": "2025-01-01T00:00:00Z"}
    members = pd.DataFrame(
        [base | {"source_system": "crm", "source_id": "1"}, base | {"source_system": "loyalty", "source_id": "2"}]
    ).assign(cluster_id="c1")
    result = spark_publication.survive_cluster(members)
    golden = result[result["kind"] == "golden"]
    assert len(golden) == 1
    assert json.loads(golden["payload"].iloc[0])["members"] == ["crm:1", "loyalty:2"]
    links = result[result["kind"] == "link"]
    assert set(links["identifier"]) == {"crm:1", "loyalty:2", "a@x.com"}
    assert set(links["golden_id"]) == set(golden["golden_id"])


def test_a_local_output_folder_names_its_newest_run_before_another(tmp_path: Path) -> None:
    from glue_jobs.spark_publication import latest_published_run

    for run_id in ("20261101T020000Z", "20261108T020000Z"):
        (tmp_path / "runs" / f"run_id={run_id}").mkdir(parents=True)
        (tmp_path / "runs" / f"run_id={run_id}" / "manifest.json").write_text("{}")
    (tmp_path / "runs" / "run_id=20261109T020000Z").mkdir()  # crashed before its manifest
    assert latest_published_run(str(tmp_path), before="20261115T020000Z") == "20261108T020000Z"
    assert latest_published_run(str(tmp_path), before="20261101T020000Z") is None


def test_a_scheduled_splink_run_finds_the_run_published_before_it() -> None:
    import boto3
    from moto import mock_aws

    from glue_jobs.spark_publication import latest_published_run

    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="curated", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        for run_id in ("20261101T020000Z", "20261108T020000Z"):
            s3.put_object(Bucket="curated", Key=f"mdm/runs/run_id={run_id}/manifest.json", Body=b"{}")
        # a run that crashed before its manifest does not count
        s3.put_object(Bucket="curated", Key="mdm/golden_records/run_id=20261110T020000Z/part-0.json", Body=b"")
        assert latest_published_run("s3://curated/mdm/", s3=s3, before="20261115T020000Z") == "20261108T020000Z"
        assert latest_published_run("s3://curated/mdm/", s3=s3, before="20261105T020000Z") == "20261101T020000Z"
        assert latest_published_run("s3://curated/mdm/", s3=s3, before="20261101T020000Z") is None
