"""Glue 5.0 job: publish what one AWS Entity Resolution matching job matched, like every other engine's run.

The matching pipeline (a state machine) starts this job when a matching job
succeeds, with the job's id and the run id. It reads the job's matched records
(`<er_output_path>/<workflow>/<job id>/success/`, CSV with a header: the
workflow's output columns, every input column, plus `MatchID` and, for ML
matching, `ConfidenceLevel`; see `glue_jobs.entity_resolution_schema`) and sends
them through the publication every Spark engine shares
(`glue_jobs.spark_publication`): survivorship per cluster, identity links,
merges against the previous published run, the manifest last, so the loader
fires exactly as it does for the Splink job.

With `--min_confidence` (ML matching), a match set whose confidence is below it
is not merged: each of its records is published as its own customer (the rule of
`glue_jobs.entity_resolution_output`, which the sandbox's stand-in applies too).
Rules matching carries no confidence: every match set is kept.

The service scores no pairs a steward could inspect, so its runs have no
`match_pairs` data set; the manifest's `engine_run` says which job it was and
how many records were held apart.

Arguments: --JOB_NAME --er_output_path (the workflow's output folder) --workflow_name
--job_id --run_id --output_path (the curated MDM prefix), optional --min_confidence
(0 to 1), --previous_run_id (default: the newest run published before it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from glue_jobs.entity_resolution_output import CLUSTER_SCHEMA, OutputError, check_output_columns, match_set_clusters
from glue_jobs.entity_resolution_schema import CONFIDENCE_LEVEL, MATCH_ID, job_output
from glue_jobs.job_arguments import JobArgumentError, optional_arguments_present, require
from glue_jobs.spark_publication import CLUSTER_ID, UNIQUE_ID, RunTarget, keyed_source, publish_run

REQUIRED_ARGUMENTS = ["JOB_NAME", "er_output_path", "workflow_name", "job_id", "run_id", "output_path"]
OPTIONAL_ARGUMENTS = ["min_confidence", "previous_run_id"]
ENGINE = "entity-resolution"
_JOB_ID = re.compile(r"^[a-f0-9]{32}$")  # the service's JobId pattern
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z$")  # glue_jobs.run_layout.new_run_id


@dataclass(frozen=True, slots=True)
class PublishOptions:
    er_output_path: str
    workflow_name: str
    job_id: str
    run_id: str
    output_path: str
    min_confidence: float | None = None
    previous_run_id: str | None = None

    @property
    def matched_path(self) -> str:
        return job_output(self.er_output_path, self.workflow_name, self.job_id)

    @property
    def target(self) -> RunTarget:
        return RunTarget(self.output_path, self.run_id, self.previous_run_id)


def parse_options(args: Mapping[str, str]) -> PublishOptions:
    require(args, REQUIRED_ARGUMENTS)
    if not _JOB_ID.match(args["job_id"]):
        raise JobArgumentError(f"--job_id must be an Entity Resolution job id (32 hex digits), got {args['job_id']}")
    if not _RUN_ID.match(args["run_id"]):
        raise JobArgumentError(f"--run_id must look like 20261201T020000Z, got {args['run_id']}")
    min_confidence = None
    if args.get("min_confidence"):
        try:
            min_confidence = float(args["min_confidence"])
        except ValueError:
            min_confidence = -1.0
        if not 0.0 <= min_confidence <= 1.0:
            raise JobArgumentError(f"--min_confidence must be a number from 0 to 1, got {args['min_confidence']}")
    return PublishOptions(
        er_output_path=args["er_output_path"],
        workflow_name=args["workflow_name"],
        job_id=args["job_id"],
        run_id=args["run_id"],
        output_path=args["output_path"],
        min_confidence=min_confidence,
        previous_run_id=args.get("previous_run_id") or None,
    )


def clusters_of(matched: Any, min_confidence: float | None) -> tuple[Any, Any]:
    """The service's output as the shared publication's inputs: keyed source records and their clusters.

    Each match set is decided by `glue_jobs.entity_resolution_output.match_set_clusters` (the sandbox's
    stand-in decides with the same function); the clusters carry `held_apart`.
    """
    try:
        check_output_columns(matched.columns, min_confidence)
    except OutputError as error:
        raise JobArgumentError(str(error)) from None
    source = keyed_source(matched)
    needed = [MATCH_ID, "source_system", "source_id"] + ([CONFIDENCE_LEVEL] if min_confidence is not None else [])
    clusters = (
        matched.select(*needed)
        .groupBy(MATCH_ID)
        .applyInPandas(partial(match_set_clusters, min_confidence=min_confidence), CLUSTER_SCHEMA)
        .withColumnRenamed("unique_id", UNIQUE_ID)
        .withColumnRenamed("cluster_id", CLUSTER_ID)
    )
    return source, clusters


def read_matched(spark: Any, path: str) -> Any:
    """The job's matched records, every column as text (parsing is the normaliser's job)."""
    return spark.read.option("header", "true").csv(path)


def run(spark: Any, options: PublishOptions) -> dict[str, Any]:
    """Publish the matched records of `options.job_id` as run `options.run_id`; returns the manifest written last."""
    source, clusters = clusters_of(read_matched(spark, options.matched_path), options.min_confidence)
    clusters = clusters.cache()
    held_apart = clusters.where("held_apart").count()
    engine_run = {
        "workflow": options.workflow_name,
        "job_id": options.job_id,
        "min_confidence": options.min_confidence,
        "records_held_apart": held_apart,
    }
    manifest = publish_run(
        spark, source.cache(), clusters.drop("held_apart"), options.target, engine=ENGINE, engine_run=engine_run
    )
    clusters.unpersist()
    return manifest


if __name__ == "__main__":
    import dataclasses

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
    if job_options.previous_run_id is None:
        previous = latest_published_run(job_options.output_path, before=job_options.run_id, s3=boto3.client("s3"))
        job_options = dataclasses.replace(job_options, previous_run_id=previous)
    context = GlueContext(SparkContext.getOrCreate())
    job = Job(context)
    job.init(resolved["JOB_NAME"], resolved)
    run(context.spark_session, job_options)
    job.commit()
