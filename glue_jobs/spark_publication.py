"""Publishing a matching run from Spark: clusters in, the run layout of `glue_jobs.run_layout` out.

Every Spark engine ends here, so the loader and everything downstream never know
which engine ran: the Splink job hands over its clusters and scored pairs, the
FindMatches publication its `match_id` clusters. Survivorship runs per cluster in
`applyInPandas` through the same pure functions the local run uses
(`glue_jobs.publication`); identity links are resolved by the same rule (an
identifier several golden customers share is withheld); the manifest is written
last. Paths are `s3://` URLs on Glue and local folders (or `file://` URLs) here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS, check_columns
from glue_jobs.golden_ids import merges_from_counts
from glue_jobs.publication import candidate_links, golden_record, merge_to_json, prepare_record
from glue_jobs.run_layout import MANIFEST_NAME, Dataset, dataset_prefix, manifest_key

SURVIVED_SCHEMA = "kind string, golden_id string, identifier_type string, identifier string, payload string"
# The key both sides of a cluster assignment share: `source_system:source_id` (customer_schema.record_key).
UNIQUE_ID = "unique_id"
CLUSTER_ID = "cluster_id"


class RunInputError(ValueError):
    """The records or clusters handed to publication cannot make a consistent run."""


@dataclass(frozen=True, slots=True)
class RunTarget:
    """Where one run is published and which earlier run its merges are computed against."""

    output_path: str
    run_id: str
    previous_run_id: str | None = None

    def location(self, relative: str) -> str:
        return f"{self.output_path.rstrip('/')}/{relative}"


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


def keyed_source(source: Any) -> Any:
    """Source records (customer schema) with their `unique_id`; refuses a missing column or a repeated key."""
    from pyspark.sql import functions  # noqa: PLC0415 - pyspark exists only where Spark runs

    check_columns(source.columns)
    keyed = source.select(*SOURCE_COLUMNS).withColumn(UNIQUE_ID, functions.concat_ws(":", "source_system", "source_id"))
    repeated = keyed.groupBy(UNIQUE_ID).count().where("count > 1").select(UNIQUE_ID).limit(1).collect()
    if repeated:
        raise RunInputError(f"source record {repeated[0][UNIQUE_ID]} appears more than once")
    return keyed


def publish_run(
    spark: Any,
    source: Any,
    clusters: Any,
    target: RunTarget,
    *,
    engine: str,
    model: dict[str, Any] | None = None,
    pairs: Any | None = None,
    engine_run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Survive each cluster and write golden records, identity links, merges (and pairs); the manifest last.

    `source` holds the customer-schema columns and `unique_id` (see `keyed_source`); `clusters`
    maps every `unique_id` to a `cluster_id`. A record without a cluster would silently vanish
    from the identity map, so it fails the run instead. `engine_run` (what a managed engine's job
    was and decided, counts only) goes into the manifest as is; the loader ignores it.
    """
    from pyspark.sql import functions  # noqa: PLC0415

    assigned = source.join(clusters.select(UNIQUE_ID, CLUSTER_ID), UNIQUE_ID, "left").cache()
    unassigned = assigned.where(functions.col(CLUSTER_ID).isNull()).count()
    if unassigned:
        raise RunInputError(f"{unassigned} source record(s) have no cluster")
    survived = assigned.groupBy(CLUSTER_ID).applyInPandas(survive_cluster, SURVIVED_SCHEMA).cache()

    golden = survived.where("kind = 'golden'").select(functions.col("payload").alias("value"))
    golden.write.mode("overwrite").text(target.location(dataset_prefix("golden_records", target.run_id)))

    # An e-mail or phone shared by several golden customers is withheld (see publication.resolve_links).
    owners = (
        survived.where("kind = 'link'")
        .groupBy("identifier_type", "identifier")
        .agg(functions.countDistinct("golden_id").alias("owners"), functions.min("golden_id").alias("golden_id"))
        .cache()
    )
    published = owners.where("owners = 1").drop("owners").cache()
    published.select(
        functions.to_json(functions.struct("golden_id", "identifier", "identifier_type")).alias("value")
    ).write.mode("overwrite").text(target.location(dataset_prefix("identity_links", target.run_id)))

    merges = _merges(spark, published, target)
    merge_lines = spark.createDataFrame([(merge_to_json(merge),) for merge in merges], "value string")
    merge_lines.coalesce(1).write.mode("overwrite").text(target.location(dataset_prefix("merges", target.run_id)))

    written: list[Dataset] = ["golden_records", "identity_links", "merges"]
    if pairs is not None:
        pairs.write.mode("overwrite").json(target.location(dataset_prefix("match_pairs", target.run_id)))
        written.append("match_pairs")

    manifest: dict[str, Any] = {
        "run_id": target.run_id,
        "engine": engine,
        "records": assigned.count(),
        "golden_records": golden.count(),
        "identity_links": published.count(),
        "ambiguous_identifiers": owners.where("owners > 1").count(),
        "merges": len(merges),
        "prefixes": {name: dataset_prefix(name, target.run_id) for name in written},
    }
    if model is not None:
        manifest["model"] = model
    if engine_run is not None:
        manifest["engine_run"] = engine_run
    for frame in (assigned, survived, owners, published):
        frame.unpersist()
    write_text(target.location(manifest_key(target.run_id)), json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def _merges(spark: Any, published: Any, target: RunTarget) -> list[Any]:
    """Old -> new golden ids of records the previous run published under another id."""
    from pyspark.sql import functions  # noqa: PLC0415

    if not target.previous_run_id:
        return []
    previous = (
        spark.read.json(target.location(dataset_prefix("identity_links", target.previous_run_id)))
        .where("identifier_type = 'source'")
        .select("identifier", functions.col("golden_id").alias("old"))
    )
    current = published.where("identifier_type = 'source'").select(
        "identifier", functions.col("golden_id").alias("new")
    )
    moves = previous.join(current, "identifier").groupBy("old", "new").count().collect()
    return merges_from_counts((row["old"], row["new"], int(row["count"])) for row in moves)


def write_text(uri: str, text: str) -> None:
    """Put one small object (the manifest): to S3 on Glue, to a local file otherwise."""
    if uri.startswith("s3://"):
        import boto3  # noqa: PLC0415 - only the deployed job writes to S3

        bucket, _, key = uri.removeprefix("s3://").partition("/")
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")
        return
    path = Path(uri.removeprefix("file://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def latest_published_run(output_path: str, *, before: str, s3: Any = None) -> str | None:
    """The newest run id with a manifest under `output_path` that sorts before `before`.

    `output_path` is an s3:// URL (listed with `s3`, a boto3 client) or a local folder.
    """
    if output_path.startswith("s3://"):
        bucket, _, prefix = output_path.removeprefix("s3://").partition("/")
        runs_prefix = f"{prefix.rstrip('/')}/runs/run_id=" if prefix.strip("/") else "runs/run_id="
        paginator = s3.get_paginator("list_objects_v2")
        run_ids = {
            key.removeprefix(runs_prefix).split("/", 1)[0]
            for page in paginator.paginate(Bucket=bucket, Prefix=runs_prefix)
            for key in (item["Key"] for item in page.get("Contents", []))
            if key.endswith("/" + MANIFEST_NAME)
        }
    else:
        runs = Path(output_path.removeprefix("file://")) / "runs"
        run_ids = {path.parent.name.removeprefix("run_id=") for path in runs.glob(f"run_id=*/{MANIFEST_NAME}")}
    earlier = sorted(run_id for run_id in run_ids if run_id < before)
    return earlier[-1] if earlier else None
