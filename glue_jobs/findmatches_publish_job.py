"""Glue 5.0 job: publish the latest FindMatches run like every other engine's run.

FindMatches (engine 1, Glue 2.0) writes the source records with the `match_id` of
their cluster to `<matched_path>run_id=<run>/` as Parquet (the documented output:
the input columns plus `match_id`, and `match_confidence_score` when asked). This
job, started by a conditional trigger when FindMatches succeeds, takes the newest
such run that has no manifest yet and sends its clusters through the publication
every Spark engine shares (`glue_jobs.spark_publication`): golden records, identity
links, merges against the previous published run, and the manifest last, under the
same run id, so the loader fires exactly as it does for the Splink job.

FindMatches scores no pairs a steward could inspect, so its runs have no
`match_pairs` data set.

Arguments: --JOB_NAME --matched_path (FindMatches' output folder) --output_path (the
curated MDM prefix), optional --run_id (default: the newest unpublished matched run),
--previous_run_id (default: the newest run published before it).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glue_jobs.job_arguments import JobArgumentError, optional_arguments_present, require
from glue_jobs.spark_publication import CLUSTER_ID, UNIQUE_ID, RunTarget, keyed_source, publish_run

REQUIRED_ARGUMENTS = ["JOB_NAME", "matched_path", "output_path"]
OPTIONAL_ARGUMENTS = ["run_id", "previous_run_id"]
ENGINE = "findmatches"
MATCH_ID = "match_id"  # FindMatches' cluster column
RUN_FOLDER = "run_id="


@dataclass(frozen=True, slots=True)
class PublishOptions:
    matched_path: str
    output_path: str
    run_id: str | None = None
    previous_run_id: str | None = None

    def matched_run(self, run_id: str) -> str:
        return f"{self.matched_path.rstrip('/')}/{RUN_FOLDER}{run_id}/"


def parse_options(args: Mapping[str, str]) -> PublishOptions:
    require(args, REQUIRED_ARGUMENTS)
    return PublishOptions(
        matched_path=args["matched_path"],
        output_path=args["output_path"],
        run_id=args.get("run_id") or None,
        previous_run_id=args.get("previous_run_id") or None,
    )


def unpublished_run(matched_runs: set[str], published_runs: set[str]) -> str:
    """The newest matched run without a manifest: what the trigger that started this job just finished."""
    waiting = sorted(matched_runs - published_runs)
    if not waiting:
        raise JobArgumentError("every FindMatches run under --matched_path is already published")
    return waiting[-1]


def clusters_of(matched: Any) -> tuple[Any, Any]:
    """FindMatches' output as the shared publication's inputs: keyed source records and their clusters."""
    from pyspark.sql import functions  # noqa: PLC0415 - pyspark exists only where Spark runs

    if MATCH_ID not in matched.columns:
        raise JobArgumentError(f"the matched records have no {MATCH_ID} column: is this FindMatches output?")
    source = keyed_source(matched)
    clusters = (
        matched.withColumn(UNIQUE_ID, functions.concat_ws(":", "source_system", "source_id"))
        # Cluster ids only need to tell clusters apart; publication never shows them.
        .select(UNIQUE_ID, functions.col(MATCH_ID).cast("string").alias(CLUSTER_ID))
    )
    return source, clusters


def run(spark: Any, options: PublishOptions, target: RunTarget) -> dict[str, Any]:
    """Publish the matched records of `target.run_id`; returns the manifest written last."""
    matched = spark.read.parquet(options.matched_run(target.run_id))
    source, clusters = clusters_of(matched)
    return publish_run(spark, source.cache(), clusters, target, engine=ENGINE)


def list_runs(s3: Any, url: str, *, marker: str) -> set[str]:
    """Run ids of the `run_id=<id>/` folders under an s3:// URL that hold an object ending in `marker`."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = f"{prefix.rstrip('/')}/" if prefix.strip("/") else ""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + RUN_FOLDER)
    return {
        key.removeprefix(prefix + RUN_FOLDER).split("/", 1)[0]
        for page in pages
        for key in (item["Key"] for item in page.get("Contents", []))
        if key.endswith(marker)
    }


if __name__ == "__main__":
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from glue_jobs.spark_publication import latest_published_run

    resolved = getResolvedOptions(
        sys.argv, REQUIRED_ARGUMENTS + optional_arguments_present(sys.argv, OPTIONAL_ARGUMENTS)
    )
    job_options = parse_options(resolved)
    s3_client = boto3.client("s3")
    run_id = job_options.run_id or unpublished_run(
        list_runs(s3_client, job_options.matched_path, marker=".parquet"),
        list_runs(s3_client, job_options.output_path.rstrip("/") + "/runs/", marker="/manifest.json"),
    )
    previous = job_options.previous_run_id or latest_published_run(job_options.output_path, before=run_id, s3=s3_client)
    context = GlueContext(SparkContext.getOrCreate())
    job = Job(context)
    job.init(resolved["JOB_NAME"], resolved)
    run(context.spark_session, job_options, RunTarget(job_options.output_path, run_id, previous))
    job.commit()
