"""Glue 5.0 job (engine 2): the shared Splink model and survivorship on Spark.

The job only wires Spark to the pure code: normalisation runs in `mapInPandas`,
the model in Splink's Spark backend (`glue_jobs.matching_engine.run_model`, the
same function the local run uses), survivorship per cluster in `applyInPandas`.
It writes the layout of `glue_jobs.run_layout` under `--output_path` and the run
manifest last.

Arguments: --JOB_NAME --input_path (raw customer records) --output_path (the
curated MDM prefix, e.g. s3://curated/mdm/), optional --input_format csv|parquet
(default csv), --threshold (match probability, default from `MatchSettings`),
--previous_run_id (a published run whose links turn cluster changes into merges; by
default the newest run already published under --output_path, so a scheduled run
re-points merged customers without being told which run came before),
--run_id (default: the start time, UTC).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.matching_model import MatchSettings
from glue_jobs.normalise import MATCH_COLUMNS, normalise_frame
from glue_jobs.publication import candidate_links, golden_record, prepare_record
from glue_jobs.run_layout import MANIFEST_NAME, dataset_prefix, manifest_key, new_run_id

REQUIRED_ARGUMENTS = ["JOB_NAME", "input_path", "output_path"]
OPTIONAL_ARGUMENTS = ["input_format", "threshold", "previous_run_id", "run_id"]
INPUT_FORMATS = ("csv", "parquet")

MATCH_SCHEMA = ", ".join(f"{column} string" for column in MATCH_COLUMNS)
SURVIVED_SCHEMA = "kind string, golden_id string, identifier_type string, identifier string, payload string"


class JobArgumentError(ValueError):
    """The job was started with arguments it cannot run with."""


@dataclass(frozen=True, slots=True)
class SplinkJobOptions:
    input_path: str
    output_path: str
    run_id: str
    input_format: str = "csv"
    settings: MatchSettings = field(default_factory=MatchSettings)
    previous_run_id: str | None = None

    def location(self, relative: str) -> str:
        return f"{self.output_path.rstrip('/')}/{relative}"


def optional_arguments_present(argv: list[str]) -> list[str]:
    """The optional arguments given on the command line (getResolvedOptions fails on absent ones)."""
    return [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]


def parse_options(args: Mapping[str, str]) -> SplinkJobOptions:
    """Validate resolved job arguments."""
    missing = [name for name in REQUIRED_ARGUMENTS if not args.get(name)]
    if missing:
        raise JobArgumentError("missing job argument(s): " + ", ".join(f"--{name}" for name in missing))
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
        run_id=args.get("run_id") or new_run_id(),
        input_format=input_format,
        settings=settings,
        previous_run_id=args.get("previous_run_id") or None,
    )


def normalise_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """`mapInPandas` body: source records in, matching input (`MATCH_COLUMNS`) out."""
    for batch in batches:
        yield normalise_frame(batch)


def survive_cluster(members: pd.DataFrame) -> pd.DataFrame:
    """`applyInPandas` body for one cluster: its golden record and its candidate identity links.

    One frame carries both so the cluster is read once; `kind` tells them apart.
    """
    records = [prepare_record(row) for row in members[list(SOURCE_COLUMNS)].to_dict(orient="records")]
    golden = golden_record(records)
    rows: list[tuple[str, str, str | None, str | None, str | None]] = [
        ("golden", golden.golden_id, None, None, golden.to_json())
    ]
    rows += [
        ("link", link.golden_id, link.identifier_type, link.identifier, None)
        for link in candidate_links(records, golden.golden_id)
    ]
    return pd.DataFrame(rows, columns=["kind", "golden_id", "identifier_type", "identifier", "payload"])


def run(spark: Any, options: SplinkJobOptions) -> dict[str, Any]:
    """Match, survive and publish; returns the manifest written last."""
    from pyspark.sql import functions  # noqa: PLC0415 - pyspark exists only on Glue
    from splink import SparkAPI  # noqa: PLC0415 - its Spark backend needs pyspark

    from glue_jobs.golden_ids import merges_from_counts  # noqa: PLC0415
    from glue_jobs.matching_engine import run_model  # noqa: PLC0415
    from glue_jobs.publication import merge_to_json  # noqa: PLC0415

    reader = spark.read.option("header", "true") if options.input_format == "csv" else spark.read
    source = getattr(reader, options.input_format)(options.input_path).select(*SOURCE_COLUMNS).cache()
    normalised = source.mapInPandas(normalise_batches, schema=MATCH_SCHEMA)
    model = run_model(SparkAPI(spark_session=spark), normalised, options.settings, progress=print)
    clusters = model.clusters.as_spark_dataframe().select("unique_id", "cluster_id")
    keyed = source.withColumn("unique_id", functions.concat_ws(":", "source_system", "source_id"))
    survived = keyed.join(clusters, "unique_id").groupBy("cluster_id").applyInPandas(survive_cluster, SURVIVED_SCHEMA)
    survived = survived.cache()

    golden = survived.where("kind = 'golden'").select(functions.col("payload").alias("value"))
    golden.write.mode("overwrite").text(options.location(dataset_prefix("golden_records", options.run_id)))

    # An e-mail or phone shared by several golden customers is withheld (see publication.resolve_links).
    links = (
        survived.where("kind = 'link'")
        .groupBy("identifier_type", "identifier")
        .agg(functions.countDistinct("golden_id").alias("owners"), functions.min("golden_id").alias("golden_id"))
    )
    published = links.where("owners = 1").drop("owners").cache()
    published.select(
        functions.to_json(functions.struct("golden_id", "identifier", "identifier_type")).alias("value")
    ).write.mode("overwrite").text(options.location(dataset_prefix("identity_links", options.run_id)))

    merges = []
    if options.previous_run_id:
        previous = (
            spark.read.json(options.location(dataset_prefix("identity_links", options.previous_run_id)))
            .where("identifier_type = 'source'")
            .select("identifier", functions.col("golden_id").alias("old"))
        )
        current = published.where("identifier_type = 'source'").select(
            "identifier", functions.col("golden_id").alias("new")
        )
        moves = previous.join(current, "identifier").groupBy("old", "new").count().collect()
        merges = merges_from_counts((row["old"], row["new"], int(row["count"])) for row in moves)
    merge_lines = spark.createDataFrame([(merge_to_json(merge),) for merge in merges], "value string")
    merge_lines.write.mode("overwrite").text(options.location(dataset_prefix("merges", options.run_id)))

    manifest = {
        "run_id": options.run_id,
        "engine": "splink-spark",
        "records": source.count(),
        "golden_records": golden.count(),
        "identity_links": published.count(),
        "ambiguous_identifiers": links.where("owners > 1").count(),
        "merges": len(merges),
        "prefixes": {
            name: dataset_prefix(name, options.run_id) for name in ("golden_records", "identity_links", "merges")
        },
        "model": model.linker.misc.save_model_to_json(),
    }
    write_text(options.location(manifest_key(options.run_id)), json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def write_text(uri: str, text: str) -> None:
    """Put one small object (the manifest) to S3."""
    import boto3  # noqa: PLC0415 - only the deployed job writes to S3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")


def latest_published_run(s3: Any, output_path: str, *, before: str) -> str | None:
    """The newest run id with a manifest under `output_path` (an s3:// URL) that sorts before `before`."""
    bucket, _, prefix = output_path.removeprefix("s3://").partition("/")
    runs_prefix = f"{prefix.rstrip('/')}/runs/run_id=" if prefix.strip("/") else "runs/run_id="
    paginator = s3.get_paginator("list_objects_v2")
    run_ids = {
        key.removeprefix(runs_prefix).split("/", 1)[0]
        for page in paginator.paginate(Bucket=bucket, Prefix=runs_prefix)
        for key in (item["Key"] for item in page.get("Contents", []))
        if key.endswith("/" + MANIFEST_NAME)
    }
    earlier = sorted(run_id for run_id in run_ids if run_id < before)
    return earlier[-1] if earlier else None


if __name__ == "__main__":
    import dataclasses

    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    resolved = getResolvedOptions(sys.argv, REQUIRED_ARGUMENTS + optional_arguments_present(sys.argv))
    job_options = parse_options(resolved)
    if job_options.previous_run_id is None:
        previous = latest_published_run(boto3.client("s3"), job_options.output_path, before=job_options.run_id)
        job_options = dataclasses.replace(job_options, previous_run_id=previous)
    context = GlueContext(SparkContext.getOrCreate())
    job = Job(context)
    job.init(resolved["JOB_NAME"], resolved)
    run(context.spark_session, job_options)
    job.commit()
