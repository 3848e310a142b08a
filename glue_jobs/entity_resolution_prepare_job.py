"""Glue 5.0 job: the input of AWS Entity Resolution, the source records keyed by one column.

The service's schema mapping takes exactly one unique-id field, and a raw record
is identified by two (`source_system`, `source_id`). Before each matching job the
pipeline runs this job: it reads the raw customer records, refuses a file that
lacks a column or repeats a record (naming it, before the service is paid to
match anything), adds `source_key` (`source_system:source_id`, the identifier the
identity map publishes) and replaces the prepared table's data (Parquet) with them.

Arguments: --JOB_NAME --input_path (raw customer records) --prepared_path (the
prepared table's location), optional --input_format csv|parquet (default csv).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.entity_resolution_schema import UNIQUE_ID_FIELD
from glue_jobs.job_arguments import JobArgumentError, optional_arguments_present, require
from glue_jobs.spark_publication import UNIQUE_ID, keyed_source

REQUIRED_ARGUMENTS = ["JOB_NAME", "input_path", "prepared_path"]
OPTIONAL_ARGUMENTS = ["input_format"]
INPUT_FORMATS = ("csv", "parquet")


@dataclass(frozen=True, slots=True)
class PrepareOptions:
    input_path: str
    prepared_path: str
    input_format: str = "csv"


def parse_options(args: Mapping[str, str]) -> PrepareOptions:
    require(args, REQUIRED_ARGUMENTS)
    input_format = args.get("input_format") or "csv"
    if input_format not in INPUT_FORMATS:
        raise JobArgumentError(f"--input_format must be one of {', '.join(INPUT_FORMATS)}, got {input_format}")
    return PrepareOptions(args["input_path"], args["prepared_path"], input_format)


def prepare(spark: Any, options: PrepareOptions) -> int:
    """Write the keyed records to the prepared location; returns how many."""
    reader = spark.read.option("header", "true") if options.input_format == "csv" else spark.read
    keyed = keyed_source(getattr(reader, options.input_format)(options.input_path))
    prepared = keyed.select(keyed[UNIQUE_ID].alias(UNIQUE_ID_FIELD), *SOURCE_COLUMNS).cache()
    prepared.write.mode("overwrite").parquet(options.prepared_path)
    count: int = prepared.count()
    prepared.unpersist()
    return count


if __name__ == "__main__":
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    resolved = getResolvedOptions(
        sys.argv, REQUIRED_ARGUMENTS + optional_arguments_present(sys.argv, OPTIONAL_ARGUMENTS)
    )
    job_options = parse_options(resolved)
    context = GlueContext(SparkContext.getOrCreate())
    job = Job(context)
    job.init(resolved["JOB_NAME"], resolved)
    prepare(context.spark_session, job_options)
    job.commit()
