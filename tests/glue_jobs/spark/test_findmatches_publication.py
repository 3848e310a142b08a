"""FindMatches runs are published like every other engine's: its clusters through the shared publication on Spark.

The transform itself (`FindMatches.apply`, Glue 2.0) cannot run here; its documented
output can: the input records (with `source_key`) plus the `match_id` of their
cluster and a confidence score, written as Parquet under `run_id=<run>/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_jobs import findmatches_publish_job
from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.dedupe import golden_records_from_clusters
from glue_jobs.publication import resolve_links
from glue_jobs.spark_publication import RunInputError
from tests.glue_jobs.spark.conftest import FINDMATCHES_RUN_ID as RUN_ID
from tests.glue_jobs.spark.conftest import SPARK_TIER, SparkRun

pytestmark = SPARK_TIER


def test_given_findmatches_output_when_published_then_one_golden_record_per_match_id_and_the_manifest(
    findmatches_run: SparkRun,
) -> None:
    manifest = findmatches_run.manifest
    assert manifest["engine"] == "findmatches"
    assert manifest["run_id"] == RUN_ID
    assert set(manifest["prefixes"]) == {"golden_records", "identity_links", "merges"}
    assert manifest["golden_records"] == len(set(findmatches_run.truth.values()))
    assert (findmatches_run.output / "runs" / f"run_id={RUN_ID}" / "manifest.json").is_file()


def test_given_findmatches_clusters_when_published_then_survivorship_and_links_are_the_shared_ones(
    findmatches_run: SparkRun,
) -> None:
    clusters = findmatches_run.clusters()
    # Each published cluster is exactly one true entity, as the stand-in's match_id said.
    assert len({findmatches_run.truth[key] for key in clusters}) == len(set(clusters.values()))
    golden, candidates = golden_records_from_clusters(findmatches_run.records, clusters)
    assert sorted(findmatches_run.lines("golden_records")) == sorted(record.to_json() for record in golden)
    assert len(findmatches_run.lines("identity_links")) == len(resolve_links(candidates).links)


def test_given_output_without_match_id_when_published_then_a_clear_error(spark: Any, tmp_path: Path) -> None:
    frame = spark.createDataFrame(pd.DataFrame({column: ["x"] for column in SOURCE_COLUMNS}))
    with pytest.raises(findmatches_publish_job.JobArgumentError, match="no match_id column"):
        findmatches_publish_job.clusters_of(frame)


def test_given_a_record_repeated_in_the_output_when_published_then_the_run_is_refused(spark: Any) -> None:
    rows = pd.DataFrame(
        {column: ["crm", "1"][i] if i < 2 else "x" for i, column in enumerate(SOURCE_COLUMNS)}, index=[0, 1]
    )
    frame = spark.createDataFrame(rows.assign(match_id=[1, 2]))
    with pytest.raises(RunInputError, match="crm:1 appears more than once"):
        findmatches_publish_job.clusters_of(frame)
