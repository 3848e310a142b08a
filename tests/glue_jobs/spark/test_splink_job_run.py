"""The Glue 5.0 matching job's `run()` end to end on local Spark: the published layout, merges, clean-up."""

from __future__ import annotations

import json
import math

import pytest

from glue_jobs.evaluation import pairwise_scores
from glue_jobs.golden_ids import merges_between
from glue_jobs.run_layout import DATASETS, MANIFEST_NAME
from tests.glue_jobs.spark.conftest import SPARK_TIER, SparkRun, TwoRuns

pytestmark = SPARK_TIER


def test_given_synthetic_customers_when_the_job_runs_then_every_data_set_and_the_manifest_are_published(
    first_run: SparkRun,
) -> None:
    manifest = first_run.manifest
    assert manifest["engine"] == "splink-spark"
    assert set(manifest["prefixes"]) == set(DATASETS)
    assert manifest["records"] == len(first_run.records) == 2_000
    assert len(first_run.lines("golden_records")) == manifest["golden_records"]
    assert len(first_run.lines("identity_links")) == manifest["identity_links"]
    assert first_run.lines("merges") == []
    on_disk = json.loads((first_run.output / "runs" / f"run_id={manifest['run_id']}" / MANIFEST_NAME).read_text())
    assert on_disk == manifest
    assert {comparison["output_column_name"] for comparison in manifest["model"]["comparisons"]} >= {"email", "phone"}


def test_given_a_run_when_published_then_the_manifest_is_written_after_every_part_file(first_run: SparkRun) -> None:
    manifest_path = first_run.output / "runs" / f"run_id={first_run.manifest['run_id']}" / MANIFEST_NAME
    parts = [path for path in first_run.output.rglob("part-*") if path.is_file()]
    assert parts
    assert max(path.stat().st_mtime_ns for path in parts) <= manifest_path.stat().st_mtime_ns


def test_given_a_run_when_clustered_then_every_record_is_in_one_golden_record_and_matches_the_truth(
    first_run: SparkRun,
) -> None:
    members = [member for golden in map(json.loads, first_run.lines("golden_records")) for member in golden["members"]]
    assert sorted(members) == sorted(first_run.truth)
    scores = pairwise_scores(first_run.clusters(), first_run.truth)
    assert scores.f1 >= 0.97, scores.summary()


def test_given_a_run_when_links_published_then_each_source_record_resolves_to_its_golden_record(
    first_run: SparkRun,
) -> None:
    links = [json.loads(line) for line in first_run.lines("identity_links")]
    sources = {link["identifier"]: link["golden_id"] for link in links if link["identifier_type"] == "source"}
    assert sources == first_run.clusters()
    assert len({(link["identifier_type"], link["identifier"]) for link in links}) == len(links)


def test_given_a_run_when_pairs_published_then_each_is_above_the_threshold_and_its_weights_add_up(
    first_run: SparkRun,
) -> None:
    model = first_run.manifest["model"]
    prior = model["probability_two_random_records_match"]
    prior_weight = math.log2(prior / (1 - prior))
    pairs = [json.loads(line) for line in first_run.lines("match_pairs")]
    assert pairs
    for pair in pairs:
        assert pair["match_probability"] >= 0.95
        assert {f"mw_{c['output_column_name']}" for c in model["comparisons"]} <= set(pair)
        partial = sum(value for name, value in pair.items() if name.startswith("mw_"))
        assert partial + prior_weight == pytest.approx(pair["match_weight"], abs=1e-6)


def test_given_a_finished_run_when_it_ends_then_its_checkpoint_folder_is_gone(first_run: SparkRun) -> None:
    assert not list((first_run.temp_dir / "splink-checkpoints").glob("run_id=*/*"))


def test_given_a_second_run_that_joins_two_customers_when_run_with_the_previous_run_then_it_publishes_merges(
    two_runs: TwoRuns,
) -> None:
    before, after = two_runs.first.clusters(), two_runs.second.clusters()
    merges = two_runs.second.rows("merges")

    expected = merges_between(before, after)
    assert merges == [{"old_golden_id": m.old_golden_id, "new_golden_id": m.new_golden_id} for m in expected]
    kept, moved = sorted((two_runs.kept_key, two_runs.moved_key))
    assert {"old_golden_id": before[moved], "new_golden_id": before[kept]} in merges
    assert after[moved] == after[kept] == before[kept]
    assert two_runs.second.manifest["merges"] == len(merges)
