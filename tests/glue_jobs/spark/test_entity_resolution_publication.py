"""Entity Resolution runs are published like every other engine's: the service's output through the shared
publication on Spark, with ML match sets below the configured confidence held apart.

The service itself cannot run here; a stand-in of its documented output can (conftest.entity_resolution_output):
the workflow's output columns (every input column), `MatchID` per match set and `ConfidenceLevel` (ML) or
`MatchRule` (rules), as CSV part files under `<workflow>/<job id>/success/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_jobs import entity_resolution_prepare_job, entity_resolution_publish_job
from glue_jobs.customer_schema import SOURCE_COLUMNS, record_key
from glue_jobs.dedupe import golden_records_from_clusters
from glue_jobs.publication import resolve_links
from glue_jobs.spark_publication import CLUSTER_ID, UNIQUE_ID, RunInputError
from glue_jobs.synthetic_customers import TRUTH_COLUMN
from tests.glue_jobs.spark.conftest import (
    ER_JOB_ID,
    ER_MIN_CONFIDENCE,
    ER_RUN_ID,
    ER_WORKFLOW,
    SPARK_TIER,
    EntityResolutionRun,
    entity_resolution_output,
)

pytestmark = SPARK_TIER


def _unsure_keys(run: EntityResolutionRun) -> set[str]:
    return {key for key, entity in run.truth.items() if entity == run.unsure_entity}


def test_given_ml_output_when_published_then_the_manifest_names_the_engine_the_job_and_what_was_held_apart(
    entity_resolution_run: EntityResolutionRun,
) -> None:
    manifest = entity_resolution_run.manifest
    unsure = len(_unsure_keys(entity_resolution_run))
    assert unsure > 1
    assert (manifest["engine"], manifest["run_id"]) == ("entity-resolution", ER_RUN_ID)
    assert set(manifest["prefixes"]) == {"golden_records", "identity_links", "merges"}
    # One golden record per confident match set, and one per record of the match set below the threshold.
    assert manifest["golden_records"] == len(set(entity_resolution_run.truth.values())) - 1 + unsure
    assert manifest["engine_run"] == {
        "workflow": ER_WORKFLOW,
        "job_id": ER_JOB_ID,
        "min_confidence": ER_MIN_CONFIDENCE,
        "records_held_apart": unsure,
    }
    assert (entity_resolution_run.output / "runs" / f"run_id={ER_RUN_ID}" / "manifest.json").is_file()


def test_given_a_match_set_below_the_confidence_when_published_then_its_records_stay_separate_customers(
    entity_resolution_run: EntityResolutionRun,
) -> None:
    clusters = entity_resolution_run.clusters()
    unsure = _unsure_keys(entity_resolution_run)
    assert len({clusters[key] for key in unsure}) == len(unsure), "no two records of the unsure set merged"
    members: dict[str, set[str]] = {}
    for key, golden in clusters.items():
        members.setdefault(golden, set()).add(key)
    for key in unsure:
        assert members[clusters[key]] == {key}
    # Every confident match set is exactly one published customer.
    confident = {key: entity for key, entity in entity_resolution_run.truth.items() if key not in unsure}
    for entity in set(confident.values()):
        assert len({clusters[key] for key, e in confident.items() if e == entity}) == 1


def test_given_the_clusters_when_published_then_survivorship_and_links_are_the_shared_ones(
    entity_resolution_run: EntityResolutionRun,
) -> None:
    clusters = entity_resolution_run.clusters()
    golden, candidates = golden_records_from_clusters(entity_resolution_run.records, clusters)
    assert sorted(entity_resolution_run.lines("golden_records")) == sorted(record.to_json() for record in golden)
    assert len(entity_resolution_run.lines("identity_links")) == len(resolve_links(candidates).links)
    assert set(clusters) == set(entity_resolution_run.truth), "every record published, none from the error folder"


def _clusters(spark: Any, customers: pd.DataFrame, tmp_path: Path, **kwargs: Any) -> dict[str, str]:
    output = entity_resolution_output(customers, tmp_path, unsure_entity=str(customers[TRUTH_COLUMN].iloc[0]), **kwargs)
    frame = entity_resolution_publish_job.read_matched(spark, f"{output}/{ER_WORKFLOW}/{ER_JOB_ID}/success/")
    min_confidence = ER_MIN_CONFIDENCE if kwargs.get("confidence", True) else None
    _, clusters = entity_resolution_publish_job.clusters_of(frame, min_confidence)
    return {row[UNIQUE_ID]: row[CLUSTER_ID] for row in clusters.collect()}


def _customers(*people: tuple[str, str, str]) -> pd.DataFrame:
    """(source system, source id, true entity) rows with otherwise blank customer columns."""
    frame = pd.DataFrame({column: [""] * len(people) for column in SOURCE_COLUMNS})
    frame["source_system"] = [p[0] for p in people]
    frame["source_id"] = [p[1] for p in people]
    frame[TRUTH_COLUMN] = [p[2] for p in people]
    return frame


def test_given_rules_output_without_confidence_when_clustered_then_every_match_set_is_kept(
    spark: Any, tmp_path: Path
) -> None:
    customers = _customers(("crm", "1", "a"), ("pos", "9", "a"), ("crm", "2", "b"))
    clusters = _clusters(spark, customers, tmp_path, confidence=False)
    assert clusters["crm:1"] == clusters["pos:9"] != clusters["crm:2"]


def test_given_a_record_without_a_confidence_when_clustered_then_its_match_set_is_not_trusted(
    spark: Any, tmp_path: Path
) -> None:
    customers = _customers(("crm", "1", "a"), ("pos", "9", "a"), ("crm", "2", "b"), ("web", "7", "b"))
    output = entity_resolution_output(customers, tmp_path, unsure_entity="none")
    success = output / ER_WORKFLOW / ER_JOB_ID / "success"
    for part in success.glob("*.csv"):  # the service left b's confidence empty
        rows = pd.read_csv(part, dtype=str, keep_default_na=False)
        rows.loc[rows["source_key"].isin(["crm:2", "web:7"]), "ConfidenceLevel"] = ""
        rows.to_csv(part, index=False)
    frame = entity_resolution_publish_job.read_matched(spark, str(success))
    _, clusters = entity_resolution_publish_job.clusters_of(frame, ER_MIN_CONFIDENCE)
    assigned = {row[UNIQUE_ID]: (row[CLUSTER_ID], row["held_apart"]) for row in clusters.collect()}
    assert assigned["crm:1"][0] == assigned["pos:9"][0]
    assert assigned["crm:2"][0] != assigned["web:7"][0]
    assert [key for key, (_, held) in sorted(assigned.items()) if held] == ["crm:2", "web:7"]


def test_given_output_without_match_id_when_published_then_a_clear_error(spark: Any) -> None:
    frame = spark.createDataFrame(pd.DataFrame({column: ["x"] for column in SOURCE_COLUMNS}))
    with pytest.raises(entity_resolution_publish_job.JobArgumentError, match="no MatchID column"):
        entity_resolution_publish_job.clusters_of(frame, None)


def test_given_a_confidence_threshold_and_rules_output_when_published_then_the_error_says_why(
    spark: Any, tmp_path: Path
) -> None:
    customers = _customers(("crm", "1", "a"))
    output = entity_resolution_output(customers, tmp_path, unsure_entity="a", confidence=False)
    frame = entity_resolution_publish_job.read_matched(spark, f"{output}/{ER_WORKFLOW}/{ER_JOB_ID}/success/")
    with pytest.raises(entity_resolution_publish_job.JobArgumentError, match=r"no ConfidenceLevel column.*rule-based"):
        entity_resolution_publish_job.clusters_of(frame, ER_MIN_CONFIDENCE)


def test_given_a_record_repeated_in_the_output_when_published_then_the_run_is_refused(spark: Any) -> None:
    rows = pd.DataFrame({column: ["x", "x"] for column in SOURCE_COLUMNS})
    rows["source_system"], rows["source_id"] = "crm", "1"
    frame = spark.createDataFrame(rows.assign(MatchID=["m1", "m2"]))
    with pytest.raises(RunInputError, match="crm:1 appears more than once"):
        entity_resolution_publish_job.clusters_of(frame, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"job_id": "not-a-job"}, "--job_id must be an Entity Resolution job id"),
        ({"run_id": "yesterday"}, "--run_id must look like 20261201T020000Z"),
        ({"min_confidence": "high"}, "--min_confidence must be a number from 0 to 1, got high"),
        ({"min_confidence": "1.2"}, "--min_confidence must be a number from 0 to 1, got 1.2"),
        ({"workflow_name": ""}, "missing job argument.*--workflow_name"),
    ],
)
def test_given_bad_job_arguments_when_parsed_then_the_error_names_the_argument(
    change: dict[str, str], message: str
) -> None:
    arguments = {
        "JOB_NAME": "publish",
        "er_output_path": "s3://curated/mdm/entity-resolution/",
        "workflow_name": ER_WORKFLOW,
        "job_id": ER_JOB_ID,
        "run_id": ER_RUN_ID,
        "output_path": "s3://curated/mdm/",
    }
    with pytest.raises(entity_resolution_publish_job.JobArgumentError, match=message):
        entity_resolution_publish_job.parse_options({**arguments, **change})


def test_given_raw_records_when_prepared_then_each_is_keyed_by_source_key_as_parquet(
    spark: Any, small: pd.DataFrame, tmp_path: Path
) -> None:
    records = small.drop(columns=TRUTH_COLUMN)
    records.to_csv(tmp_path / "customers.csv", index=False)
    options = entity_resolution_prepare_job.parse_options(
        {"JOB_NAME": "prepare", "input_path": str(tmp_path / "customers.csv"), "prepared_path": str(tmp_path / "p")}
    )
    assert entity_resolution_prepare_job.prepare(spark, options) == len(records)
    prepared = pd.read_parquet(tmp_path / "p")
    assert list(prepared.columns) == ["source_key", *SOURCE_COLUMNS]
    expected = {record_key(s, i) for s, i in zip(records["source_system"], records["source_id"], strict=True)}
    assert set(prepared["source_key"]) == expected


def test_given_a_repeated_raw_record_when_prepared_then_nothing_is_written_and_the_record_is_named(
    spark: Any, small: pd.DataFrame, tmp_path: Path
) -> None:
    records = small.drop(columns=TRUTH_COLUMN)
    pd.concat([records, records.iloc[[3]]]).to_csv(tmp_path / "customers.csv", index=False)
    options = entity_resolution_prepare_job.parse_options(
        {"JOB_NAME": "prepare", "input_path": str(tmp_path / "customers.csv"), "prepared_path": str(tmp_path / "p")}
    )
    key = record_key(records["source_system"].iloc[3], records["source_id"].iloc[3])
    with pytest.raises(RunInputError, match=f"{key} appears more than once"):
        entity_resolution_prepare_job.prepare(spark, options)
    assert not (tmp_path / "p").exists()
