from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from glue_jobs.dedupe import DedupeResult, dedupe, latest_source_links, write_run
from glue_jobs.golden_ids import merges_between
from glue_jobs.matching_model import MatchSettings


def test_given_a_result_when_written_then_published_layout_and_manifest_last(
    deduped: DedupeResult, tmp_path: Path
) -> None:
    manifest_path = write_run(deduped, tmp_path, "20260101T000000Z")
    manifest = json.loads(manifest_path.read_text())
    assert manifest_path == tmp_path / "runs/run_id=20260101T000000Z/manifest.json"
    golden_lines = (tmp_path / manifest["prefixes"]["golden_records"] / "part-00000.json").read_text().splitlines()
    assert len(golden_lines) == manifest["golden_records"] == len(deduped.golden_records)
    link = json.loads(
        (tmp_path / manifest["prefixes"]["identity_links"] / "part-00000.json").read_text().splitlines()[0]
    )
    assert set(link) == {"identifier_type", "identifier", "golden_id"}
    assert latest_source_links(tmp_path) == deduped.clusters


def test_given_same_input_when_re_run_then_same_golden_ids_and_no_merges(
    customers: pd.DataFrame, deduped: DedupeResult, fast_settings: MatchSettings
) -> None:
    again = dedupe(customers.drop(columns="entity_id"), settings=fast_settings, previous_links=deduped.clusters)
    assert again.clusters == deduped.clusters
    assert again.merges == []


def test_given_previous_ids_that_changed_when_compared_then_merges_re_point_them(deduped: DedupeResult) -> None:
    previous = dict(deduped.clusters)
    key = next(iter(previous))
    previous[key] = "gc-provisional"
    merges = merges_between(previous, deduped.clusters)
    assert [(m.old_golden_id, m.new_golden_id) for m in merges] == [("gc-provisional", deduped.clusters[key])]


def test_given_duplicate_source_keys_when_deduped_then_error_names_the_record(customers: pd.DataFrame) -> None:
    records = customers.drop(columns="entity_id")
    with pytest.raises(ValueError, match="appears more than once"):
        dedupe(pd.concat([records.head(3), records.head(1)]))
