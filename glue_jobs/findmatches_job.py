"""Glue 2.0 job (engine 1): AWS FindMatches over the source customer records.

Glue 2.0 runs Python 3.7 and this script is uploaded on its own, so it uses only
the standard library and Glue's own modules (imported under the main guard or where
used), and no syntax newer than 3.7 outside annotations. The
steps it runs are plain functions over a small I/O port, tested without Glue.

1. read the source table, add `source_key` (`source_system:source_id`, the
   transform's primary key) and write it to the prepared location (the transform's
   input table, which labeling-set generation also reads);
2. `FindMatches.apply` (mode `full`) or `FindIncrementalMatches.apply` (mode
   `incremental`, against the previous matched output);
3. write the records with `match_id` to `<output_path>/run_id=<run>/` as Parquet.

Arguments: --JOB_NAME --database --source_table --transform_id --prepared_path
--output_path, optional --mode full|incremental (default full), --existing_path
(required when incremental), --run_id (default: the start time, UTC).
"""

from __future__ import annotations

import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

REQUIRED_ARGUMENTS = ["JOB_NAME", "database", "source_table", "transform_id", "prepared_path", "output_path"]
OPTIONAL_ARGUMENTS = ["mode", "existing_path", "run_id"]
MODES = ("full", "incremental")
PRIMARY_KEY = "source_key"


class JobArgumentError(ValueError):
    """The job was started with arguments it cannot run with."""


@dataclass(frozen=True)
class FindMatchesOptions:
    database: str
    source_table: str
    transform_id: str
    prepared_path: str
    output_path: str
    run_id: str
    mode: str = "full"
    existing_path: str | None = None

    @property
    def matched_path(self) -> str:
        return self.output_path.rstrip("/") + "/run_id=" + self.run_id + "/"


def optional_arguments_present(argv: list[str]) -> list[str]:
    """The optional arguments given on the command line (getResolvedOptions fails on absent ones)."""
    return [name for name in OPTIONAL_ARGUMENTS if "--" + name in argv]


def parse_options(args: dict[str, str], now: float | None = None) -> FindMatchesOptions:
    """Validate resolved job arguments."""
    missing = [name for name in REQUIRED_ARGUMENTS if not args.get(name)]
    if missing:
        raise JobArgumentError("missing job argument(s): " + ", ".join("--" + name for name in missing))
    mode = args.get("mode") or "full"
    if mode not in MODES:
        raise JobArgumentError("--mode must be one of " + ", ".join(MODES) + ", got " + mode)
    existing = args.get("existing_path") or None
    if mode == "incremental" and not existing:
        raise JobArgumentError("--mode incremental needs --existing_path (the previous matched output)")
    run_id = args.get("run_id") or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return FindMatchesOptions(
        database=args["database"],
        source_table=args["source_table"],
        transform_id=args["transform_id"],
        prepared_path=args["prepared_path"],
        output_path=args["output_path"],
        run_id=run_id,
        mode=mode,
        existing_path=existing,
    )


class JobIO(ABC):
    """The job's reads and writes; `GlueJobIO` is the real one, tests pass a fake.

    An abstract base class rather than a Protocol: Glue 2.0 runs Python 3.7.
    """

    @abstractmethod
    def read_source(self, database: str, table: str) -> Any: ...

    @abstractmethod
    def with_source_key(self, frame: Any) -> Any: ...

    @abstractmethod
    def read_parquet(self, path: str) -> Any: ...

    @abstractmethod
    def write_parquet(self, frame: Any, path: str) -> None: ...


def run(options: FindMatchesOptions, io: JobIO, find_matches: Any, find_incremental_matches: Any) -> Any:
    """Prepare, match and write; returns the matched frame."""
    prepared = io.with_source_key(io.read_source(options.database, options.source_table))
    io.write_parquet(prepared, options.prepared_path)
    if options.mode == "incremental":
        matched = find_incremental_matches.apply(
            existingFrame=io.read_parquet(str(options.existing_path)),
            incrementalFrame=prepared,
            transformId=options.transform_id,
            transformation_ctx="find_incremental_matches",
            computeMatchConfidenceScores=True,
        )
    else:
        matched = find_matches.apply(
            frame=prepared,
            transformId=options.transform_id,
            transformation_ctx="find_matches",
            computeMatchConfidenceScores=True,
        )
    io.write_parquet(matched, options.matched_path)
    return matched


class GlueJobIO(JobIO):
    """DynamicFrame reads and writes through a GlueContext."""

    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context

    def read_source(self, database: str, table: str) -> Any:
        return self.glue_context.create_dynamic_frame.from_catalog(
            database=database, table_name=table, transformation_ctx="source"
        )

    def with_source_key(self, frame: Any) -> Any:
        # awsglue and pyspark exist only on Glue: imported where used so tests can import the module.
        from awsglue.dynamicframe import DynamicFrame  # noqa: PLC0415
        from pyspark.sql import functions  # noqa: PLC0415

        keyed = frame.toDF().withColumn(
            PRIMARY_KEY, functions.concat_ws(":", functions.col("source_system"), functions.col("source_id"))
        )
        return DynamicFrame.fromDF(keyed.dropDuplicates([PRIMARY_KEY]), self.glue_context, "prepared")

    def read_parquet(self, path: str) -> Any:
        return self.glue_context.create_dynamic_frame.from_options(
            connection_type="s3", connection_options={"paths": [path]}, format="parquet"
        )

    def write_parquet(self, frame: Any, path: str) -> None:
        # The prepared location is the transform's table: replace it, never append a second copy.
        frame.toDF().write.mode("overwrite").parquet(path)


if __name__ == "__main__":
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from awsglueml.transforms import FindIncrementalMatches, FindMatches
    from pyspark.context import SparkContext

    resolved = getResolvedOptions(sys.argv, REQUIRED_ARGUMENTS + optional_arguments_present(sys.argv))
    job_options = parse_options(resolved)
    context = GlueContext(SparkContext.getOrCreate())
    job = Job(context)
    job.init(resolved["JOB_NAME"], resolved)
    run(job_options, GlueJobIO(context), FindMatches, FindIncrementalMatches)
    job.commit()
