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
is not merged: each of its records is published as its own customer. A record
without a confidence counts as below it (absent confidence is not confidence).
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
from typing import Any

from glue_jobs.entity_resolution_schema import CONFIDENCE_LEVEL, MATCH_ID, job_output
from glue_jobs.job_arguments import JobArgumentError, optional_arguments_present, require
from glue_jobs.spark_publication import CLUSTER_ID, UNIQUE_ID, RunTarget, keyed_source, publish_run

REQUIRED_ARGUMENTS = ["JOB_NAME", "er_output_path", "workflow_name", "job_id", "run_id", "output_path"]
OPTIONAL_ARGUMENTS = ["min_confidence", "previous_run_id"]
ENGINE = "entity-resolution"
_JOB_ID = re.compile(r"^[a-f0-9]{32}$")  # the service's JobId pattern
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z$")  # glue_jobs.run_layout.new_run_id
# Cluster ids only tell clusters apart; a record held apart gets one no match set can have.
_HELD_APART = "held-apart:"


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

    The clusters carry `held_apart`: true for a record that a match set below `min_confidence` would have
    merged with others (a record alone in its match set has nothing to be held apart from).
    """
    from pyspark.sql import Window, functions  # noqa: PLC0415 - pyspark exists only where Spark runs

    if MATCH_ID not in matched.columns:
        raise JobArgumentError(f"the matched records have no {MATCH_ID} column: is this Entity Resolution output?")
    if min_confidence is not None and CONFIDENCE_LEVEL not in matched.columns:
        raise JobArgumentError(
            f"--min_confidence is set but the matched records have no {CONFIDENCE_LEVEL} column: "
            "is the workflow rule-based? (rules matching has no confidence to hold match sets apart by)"
        )
    source = keyed_source(matched)
    keyed = matched.withColumn(UNIQUE_ID, functions.concat_ws(":", "source_system", "source_id"))
    if min_confidence is None:
        held_apart = functions.lit(False)
    else:
        # A value that is not a number casts to null, and null is below every threshold.
        confidence = functions.col(CONFIDENCE_LEVEL).cast("double")
        below = functions.coalesce(confidence < functions.lit(min_confidence), functions.lit(True))
        shared = functions.count(functions.lit(1)).over(Window.partitionBy(MATCH_ID)) > 1
        held_apart = below & shared
    clusters = keyed.select(
        UNIQUE_ID,
        functions.when(held_apart, functions.concat(functions.lit(_HELD_APART), functions.col(UNIQUE_ID)))
        .otherwise(functions.col(MATCH_ID).cast("string"))
        .alias(CLUSTER_ID),
        held_apart.alias("held_apart"),
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
