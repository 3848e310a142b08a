"""The FindMatches publication job's arguments and run discovery, without Spark."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from glue_jobs import findmatches_publish_job as job


def test_given_matched_and_published_runs_when_resolved_then_the_newest_unpublished_run() -> None:
    matched = {"20261101T010000Z", "20261102T010000Z", "20261103T010000Z"}
    assert job.unpublished_run(matched, {"20261101T010000Z"}) == "20261103T010000Z"


def test_given_every_run_published_when_resolved_then_a_clear_error() -> None:
    with pytest.raises(job.JobArgumentError, match="already published"):
        job.unpublished_run({"20261101T010000Z"}, {"20261101T010000Z"})


def test_given_missing_arguments_when_parsed_then_the_error_names_them() -> None:
    with pytest.raises(job.JobArgumentError, match="--matched_path"):
        job.parse_options({"JOB_NAME": "j", "output_path": "s3://b/mdm/"})


def test_given_runs_in_s3_when_listed_then_only_folders_holding_the_marker_count() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="curated", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in (
            "mdm/findmatches/run_id=20261101T010000Z/part-00000.snappy.parquet",
            "mdm/findmatches/run_id=20261102T010000Z/_temporary/0",
            "mdm/runs/run_id=20261101T010000Z/manifest.json",
        ):
            s3.put_object(Bucket="curated", Key=key, Body=b"x")

        matched = job.list_runs(s3, "s3://curated/mdm/findmatches/", marker=".parquet")
        published = job.list_runs(s3, "s3://curated/mdm/runs/", marker="/manifest.json")

    assert matched == {"20261101T010000Z"}
    assert published == {"20261101T010000Z"}
