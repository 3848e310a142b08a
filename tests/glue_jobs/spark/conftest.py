"""The Spark tier: the Glue 5.0 job's own code on local Spark 3.5.4 (Glue 5.0's Spark), Java 17, the jar the stack uploads.

One SparkSession serves the whole test session; each matching run is made once and
shared by the tests that read it. Spark talks to its JVM over loopback only, so these
tests may open sockets to 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from glue_jobs import entity_resolution_publish_job, findmatches_publish_job
from glue_jobs.customer_schema import SOURCE_COLUMNS, record_key
from glue_jobs.dedupe import DedupeResult, dedupe
from glue_jobs.entity_resolution_schema import CONFIDENCE_LEVEL, MATCH_ID, MATCH_RULE
from glue_jobs.febrl import febrl_as_customers
from glue_jobs.local_spark import local_session
from glue_jobs.matching_model import MatchSettings
from glue_jobs.run_layout import manifest_key
from glue_jobs.spark_publication import RunTarget
from glue_jobs.splink_job import parse_options, run
from glue_jobs.synthetic_customers import TRUTH_COLUMN, generate_customers
from omni_cli import main as cli

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
# Fewer u pairs than production, as in the DuckDB tests: small data, and tests must take seconds.
TEST_SETTINGS = MatchSettings(u_max_pairs=1e5)
SYNTHETIC_RECORDS = 2_000
SMALL_RECORDS = 250


# Every module of this tier starts with `pytestmark = SPARK_TIER`.
SPARK_TIER = [pytest.mark.spark, pytest.mark.allow_hosts(LOOPBACK)]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    session = local_session()
    yield session
    session.stop()


@dataclass(frozen=True)
class SparkRun:
    """One run of the Glue job's `run()`: its input, output folder, manifest and the generator's truth."""

    records: pd.DataFrame
    truth: dict[str, str]
    output: Path
    temp_dir: Path
    manifest: dict[str, Any]

    def lines(self, dataset: str) -> list[str]:
        folder = self.output / self.manifest["prefixes"][dataset]
        return [line for part in sorted(folder.glob("part-*")) for line in part.read_text().splitlines() if line]

    def rows(self, dataset: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines(dataset)]

    def clusters(self) -> dict[str, str]:
        """`record key -> golden id` from the published golden records."""
        return {member: golden["golden_id"] for golden in self.rows("golden_records") for member in golden["members"]}


def job_run(
    spark: Any, records: pd.DataFrame, folder: Path, run_id: str, *, previous_run_id: str | None = None
) -> dict[str, Any]:
    """`run()` called exactly as the job's `__main__` calls it: resolved arguments through `parse_options`."""
    source = folder / "input"
    source.mkdir(parents=True, exist_ok=True)
    records.to_csv(source / f"customers-{run_id}.csv", index=False)
    arguments = {
        "JOB_NAME": "omni-cx-test-customer-matching",
        "input_path": str(source / f"customers-{run_id}.csv"),
        "output_path": str(folder / "mdm"),
        "TempDir": str(folder / "tmp"),
        "run_id": run_id,
    }
    if previous_run_id:
        arguments["previous_run_id"] = previous_run_id
    return run(spark, replace(parse_options(arguments), settings=TEST_SETTINGS))


def truth_of(customers: pd.DataFrame) -> dict[str, str]:
    """`record key -> true entity` of generated customers."""
    keys = (record_key(s, i) for s, i in zip(customers["source_system"], customers["source_id"], strict=True))
    return dict(zip(keys, customers[TRUTH_COLUMN], strict=True))


@pytest.fixture(scope="session")
def synthetic() -> pd.DataFrame:
    return generate_customers(SYNTHETIC_RECORDS, seed=23)


@pytest.fixture(scope="session")
def first_run(spark: Any, synthetic: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> SparkRun:
    folder = tmp_path_factory.mktemp("spark-run")
    records = synthetic.drop(columns=TRUTH_COLUMN)
    manifest = job_run(spark, records, folder, "20261201T010000Z")
    return SparkRun(records, truth_of(synthetic), folder / "mdm", folder / "tmp", manifest)


@pytest.fixture(scope="session")
def small() -> pd.DataFrame:
    """Few enough customers for the loader on moto, whose transactions copy the whole table each time."""
    return generate_customers(SMALL_RECORDS, seed=29)


def bridge(records: pd.DataFrame, kept_key: str, moved_key: str) -> pd.DataFrame:
    """`records` with the record `moved_key` rewritten as a copy of `kept_key`'s person (its own key unchanged)."""

    def row(key: str) -> pd.Series:
        system, source_id = key.split(":", 1)
        return (records["source_system"] == system) & (records["source_id"] == source_id)

    changed = records.copy()
    person = [column for column in SOURCE_COLUMNS if column not in ("source_system", "source_id", "updated_at")]
    changed.loc[row(moved_key), person] = records.loc[row(kept_key), person].to_numpy()
    return changed


@dataclass(frozen=True)
class TwoRuns:
    """Two scheduled runs into one output folder; the second joins two customers the first kept apart."""

    first: SparkRun
    second: SparkRun
    kept_key: str
    moved_key: str


@pytest.fixture(scope="session")
def two_runs(spark: Any, small: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    folder = tmp_path_factory.mktemp("spark-two-runs")
    records = small.drop(columns=TRUTH_COLUMN)
    first = SparkRun(
        records, truth_of(small), folder / "mdm", folder / "tmp", job_run(spark, records, folder, "20261201T040000Z")
    )
    clusters = first.clusters()
    sizes = pd.Series(list(clusters.values())).value_counts()
    singles = sorted(key for key, golden in clusters.items() if sizes[golden] == 1)
    kept_key, moved_key = singles[0], singles[-1]
    changed = bridge(records, kept_key, moved_key)
    # The second run is a data steward's: `omni mdm dedupe --engine spark`, which finds the previous run itself.
    changed.to_csv(folder / "changed.csv", index=False)
    second_run_id = "20261202T040000Z"
    command = [
        "mdm",
        "dedupe",
        "--engine",
        "spark",
        "--input",
        str(folder / "changed.csv"),
        "--output",
        str(first.output),
    ]
    assert cli.main([*command, "--run-id", second_run_id]) == 0
    manifest = json.loads((first.output / manifest_key(second_run_id)).read_text())
    return TwoRuns(first, SparkRun(changed, first.truth, first.output, first.temp_dir, manifest), kept_key, moved_key)


@dataclass(frozen=True)
class Febrl3Runs:
    """FEBRL3 matched by the Glue job on Spark and by the local run on DuckDB, with its true links."""

    spark: SparkRun
    duckdb: DedupeResult


@pytest.fixture(scope="session")
def febrl3(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Febrl3Runs:
    records, truth = febrl_as_customers("febrl3")
    folder = tmp_path_factory.mktemp("spark-febrl3")
    manifest = job_run(spark, records, folder, "20261201T020000Z")
    spark_run = SparkRun(
        records=records, truth=truth, output=folder / "mdm", temp_dir=folder / "tmp", manifest=manifest
    )
    return Febrl3Runs(spark=spark_run, duckdb=dedupe(records, settings=TEST_SETTINGS))


FINDMATCHES_RUN_ID = "20261201T030000Z"


def _matched_output(customers: pd.DataFrame, folder: Path, run_id: str) -> Path:
    """A stand-in of FindMatches' output: the generator's true entities as its clusters."""
    entity_numbers = {entity: number for number, entity in enumerate(sorted(customers[TRUTH_COLUMN].unique()))}
    matched = customers[list(SOURCE_COLUMNS)].assign(
        source_key=[record_key(s, i) for s, i in zip(customers["source_system"], customers["source_id"], strict=True)],
        match_id=[entity_numbers[entity] for entity in customers[TRUTH_COLUMN]],
        match_confidence_score=0.97,
    )
    path = folder / "findmatches" / f"run_id={run_id}"
    path.mkdir(parents=True)
    matched.to_parquet(path / "part-00000.snappy.parquet", index=False)
    return folder / "findmatches"


@pytest.fixture(scope="session")
def findmatches_run(spark: Any, small: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> SparkRun:
    folder = tmp_path_factory.mktemp("findmatches")
    matched_path = _matched_output(small, folder, FINDMATCHES_RUN_ID)
    options = findmatches_publish_job.parse_options(
        {"JOB_NAME": "publish", "matched_path": str(matched_path), "output_path": str(folder / "mdm")}
    )
    manifest = findmatches_publish_job.run(spark, options, RunTarget(options.output_path, FINDMATCHES_RUN_ID))
    return SparkRun(small.drop(columns=TRUTH_COLUMN), truth_of(small), folder / "mdm", folder / "tmp", manifest)


ER_RUN_ID = "20261201T050000Z"
ER_WORKFLOW = "omni-cx-test-customer-matching"
ER_JOB_ID = "0123456789abcdef0123456789abcdef"
ER_MIN_CONFIDENCE = 0.9
ER_INPUT_SOURCE = "arn:aws:glue:eu-west-2:111122223333:table/omni_cx_test_lake/prepared_customers"


@dataclass(frozen=True)
class EntityResolutionRun(SparkRun):
    """A published run of an Entity Resolution stand-in, and the true entity it said it was unsure of."""

    unsure_entity: str = ""


def low_confidence_entity(customers: pd.DataFrame) -> str:
    """The first true entity (in sorted order) with more than one record: the stand-in is unsure of it."""
    sizes = customers[TRUTH_COLUMN].value_counts()
    return str(sorted(entity for entity, size in sizes.items() if size > 1)[0])


def entity_resolution_output(
    customers: pd.DataFrame, folder: Path, *, unsure_entity: str, confidence: bool = True
) -> Path:
    """A stand-in of a matching job's documented output (glue_jobs.entity_resolution_schema): under
    `<workflow>/<job id>/success/`, CSV part files with a header holding the workflow's output columns (every
    input column), `InputSourceARN`, `MatchID` per match set (the generator's true entities) and, for ML,
    `ConfidenceLevel` (0.42 for `unsure_entity`, 0.97 for the others); rules output has `MatchRule` instead.
    An `error/` folder beside it holds a record the service could not process: publication never reads it.
    """
    match_ids = {
        entity: hashlib.sha256(str(entity).encode()).hexdigest()[:32] for entity in customers[TRUTH_COLUMN].unique()
    }
    output = customers[list(SOURCE_COLUMNS)].assign(
        source_key=[record_key(s, i) for s, i in zip(customers["source_system"], customers["source_id"], strict=True)]
    )[["source_key", *SOURCE_COLUMNS]]
    output.insert(0, "InputSourceARN", ER_INPUT_SOURCE)
    if confidence:
        output.insert(1, CONFIDENCE_LEVEL, [0.42 if e == unsure_entity else 0.97 for e in customers[TRUTH_COLUMN]])
    else:
        output.insert(1, MATCH_RULE, "same-name-and-birth-date")
    output[MATCH_ID] = [match_ids[entity] for entity in customers[TRUTH_COLUMN]]
    job = folder / "er-output" / ER_WORKFLOW / ER_JOB_ID
    (job / "success").mkdir(parents=True)
    half = len(output) // 2
    output.iloc[:half].to_csv(job / "success" / "part-00000.csv", index=False)
    output.iloc[half:].to_csv(job / "success" / "part-00001.csv", index=False)
    (job / "error").mkdir()
    (job / "error" / "part-00000.csv").write_text("source_key,error\ncrm:unprocessable,invalid date_of_birth\n")
    return folder / "er-output"


@pytest.fixture(scope="session")
def entity_resolution_run(
    spark: Any, small: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> EntityResolutionRun:
    folder = tmp_path_factory.mktemp("entity-resolution")
    unsure = low_confidence_entity(small)
    er_output = entity_resolution_output(small, folder, unsure_entity=unsure)
    options = entity_resolution_publish_job.parse_options(
        {
            "JOB_NAME": "publish",
            "er_output_path": str(er_output),
            "workflow_name": ER_WORKFLOW,
            "job_id": ER_JOB_ID,
            "run_id": ER_RUN_ID,
            "output_path": str(folder / "mdm"),
            "min_confidence": str(ER_MIN_CONFIDENCE),
        }
    )
    manifest = entity_resolution_publish_job.run(spark, options)
    records = small.drop(columns=TRUTH_COLUMN)
    return EntityResolutionRun(records, truth_of(small), folder / "mdm", folder / "tmp", manifest, unsure)
