"""Glue 5.0 job (engine 2): the shared Splink model and survivorship on Spark.

The job only wires Spark to the pure code: normalisation runs in `mapInPandas`,
the model in Splink's Spark backend (`glue_jobs.matching_engine.run_model`, the
same function the local run uses), and publication (survivorship per cluster,
identity links, merges, the manifest last) in `glue_jobs.spark_publication`,
which every Spark engine shares. It writes the layout of `glue_jobs.run_layout`
under `--output_path`.

Splink's Spark backend breaks long query lineages by writing intermediate tables
as Parquet under the SparkContext's checkpoint directory: the job sets it to a
per-run folder under `--TempDir` and removes that folder when the run ends.

Arguments: --JOB_NAME --input_path (raw customer records) --output_path (the
curated MDM prefix, e.g. s3://curated/mdm/) --TempDir (Glue's temporary folder),
optional --input_format csv|parquet (default csv), --threshold (match probability,
default from `MatchSettings`), --previous_run_id (a published run whose links turn
cluster changes into merges; by default the newest run already published under
--output_path, so a scheduled run re-points merged customers without being told
which run came before), --run_id (default: the start time, UTC).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from glue_jobs.job_arguments import JobArgumentError, optional_arguments_present, require
from glue_jobs.matching_model import MatchSettings
from glue_jobs.normalise import MATCH_COLUMNS, normalise_frame
from glue_jobs.run_layout import new_run_id
from glue_jobs.spark_publication import CLUSTER_ID, UNIQUE_ID, RunTarget, keyed_source, publish_run

REQUIRED_ARGUMENTS = ["JOB_NAME", "input_path", "output_path", "TempDir"]
OPTIONAL_ARGUMENTS = ["input_format", "threshold", "previous_run_id", "run_id"]
INPUT_FORMATS = ("csv", "parquet")
ENGINE = "splink-spark"

MATCH_SCHEMA = ", ".join(f"{column} string" for column in MATCH_COLUMNS)


@dataclass(frozen=True, slots=True)
class SplinkJobOptions:
    input_path: str
    output_path: str
    temp_dir: str
    run_id: str
    input_format: str = "csv"
    settings: MatchSettings = field(default_factory=MatchSettings)
    previous_run_id: str | None = None

    @property
    def target(self) -> RunTarget:
        return RunTarget(output_path=self.output_path, run_id=self.run_id, previous_run_id=self.previous_run_id)

    @property
    def checkpoint_dir(self) -> str:
        """This run's own folder for Splink's intermediate tables: runs never share or delete each other's."""
        return f"{self.temp_dir.rstrip('/')}/splink-checkpoints/run_id={self.run_id}"


def parse_options(args: Mapping[str, str]) -> SplinkJobOptions:
    """Validate resolved job arguments."""
    require(args, REQUIRED_ARGUMENTS)
    input_format = args.get("input_format") or "csv"
    if input_format not in INPUT_FORMATS:
        raise JobArgumentError(f"--input_format must be one of {', '.join(INPUT_FORMATS)}, got {input_format}")
    try:
        settings = MatchSettings(threshold_match_probability=float(args.get("threshold") or 0.95))
    except ValueError as error:
        raise JobArgumentError(f"--threshold: {error}") from error
    return SplinkJobOptions(
        input_path=args["input_path"],
        output_path=args["output_path"],
        temp_dir=args["TempDir"],
        run_id=args.get("run_id") or new_run_id(),
        input_format=input_format,
        settings=settings,
        previous_run_id=args.get("previous_run_id") or None,
    )


def normalise_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`mapInPandas` body: source records in, matching input (`MATCH_COLUMNS`) out."""
    for batch in batches:
        yield normalise_frame(batch)


def read_source(spark: Any, options: SplinkJobOptions) -> Any:
    """The raw customer records, every column as text (parsing is the normaliser's job)."""
    reader = spark.read.option("header", "true") if options.input_format == "csv" else spark.read
    return getattr(reader, options.input_format)(options.input_path)


def run(spark: Any, options: SplinkJobOptions) -> dict[str, Any]:
    """Match, survive and publish; returns the manifest written last."""
    from splink import SparkAPI  # noqa: PLC0415 - its Spark backend needs pyspark

    from glue_jobs.matching_engine import pair_columns, run_model  # noqa: PLC0415

    spark.sparkContext.setCheckpointDir(options.checkpoint_dir)
    try:
        source = keyed_source(read_source(spark, options)).cache()
        normalised = source.drop(UNIQUE_ID).mapInPandas(normalise_batches, schema=MATCH_SCHEMA)
        model = run_model(SparkAPI(spark_session=spark), normalised, options.settings, progress=print)
        clusters = model.clusters.as_spark_dataframe().select(UNIQUE_ID, CLUSTER_ID)
        predictions = model.predictions.as_spark_dataframe()
        return publish_run(
            spark,
            source,
            clusters,
            options.target,
            engine=ENGINE,
            model=model.linker.misc.save_model_to_json(),
            pairs=predictions.select(*pair_columns(predictions.columns)),
        )
    finally:
        remove_folder(spark, options.checkpoint_dir)


def remove_folder(spark: Any, uri: str) -> None:
    """Delete a folder through Spark's own file system layer (S3 on Glue, local disk here)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)


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
