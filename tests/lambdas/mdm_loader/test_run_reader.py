"""Reading a published run: manifest keys, the local-folder adapter on a real run, broken runs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mdm_loader.errors import IncompleteRunError, MalformedLineError, NotAManifestError
from mdm_loader.run_format import GoldenRecordLine, IdentityLinkLine, MergeLine, run_location
from mdm_loader.run_reader import LocalRunReader, open_run
from tests.lambdas.mdm_loader.conftest import PublishedRun


def test_given_a_manifest_key_under_a_prefix_when_parsed_then_root_run_id_and_time() -> None:
    location = run_location("mdm/runs/run_id=20261104T120000Z/manifest.json")

    assert (location.root, location.run_id) == ("mdm/", "20261104T120000Z")
    assert location.run_time == datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    assert location.dataset_prefix("golden_records/run_id=20261104T120000Z") == (
        "mdm/golden_records/run_id=20261104T120000Z/"
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("mdm/golden_records/run_id=20261104T120000Z/part-00000.json", "not a run manifest"),
        ("mdm/runs/run_id=20261104T120000Z/manifest.json.tmp", "not a run manifest"),
        ("mdm/runs/run_id=nightly/manifest.json", "not a UTC time stamp"),
    ],
)
def test_given_a_key_that_is_not_a_manifest_when_parsed_then_a_clear_error(key: str, message: str) -> None:
    with pytest.raises(NotAManifestError, match=message):
        run_location(key)


def test_given_a_real_local_run_when_read_then_every_line_has_the_published_shape(
    published_run: PublishedRun,
) -> None:
    run = open_run(LocalRunReader(published_run.folder), published_run.manifest_key)

    golden = list(run.records("golden_records", GoldenRecordLine))
    links = list(run.records("identity_links", IdentityLinkLine))
    merges = list(run.records("merges", MergeLine))

    assert [record.golden_id for record in golden] == [r.golden_id for r in published_run.result.golden_records]
    assert {field for record in golden for field in record.attributes} <= set(
        published_run.golden_lines()[0]["attributes"]
    )
    assert len(links) == len(published_run.result.links.links)
    assert merges == []


def _copy(published_run: PublishedRun, tmp_path: Path) -> Path:
    shutil.copytree(published_run.folder, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_given_a_manifest_without_a_data_set_when_opened_then_the_missing_set_is_named(
    published_run: PublishedRun, tmp_path: Path
) -> None:
    folder = _copy(published_run, tmp_path)
    manifest = folder / published_run.manifest_key
    document = json.loads(manifest.read_text())
    del document["prefixes"]["merges"]
    manifest.write_text(json.dumps(document))

    with pytest.raises(IncompleteRunError, match="no merges in its manifest"):
        open_run(LocalRunReader(folder), published_run.manifest_key)


def test_given_a_missing_manifest_when_opened_then_it_says_so(tmp_path: Path) -> None:
    with pytest.raises(IncompleteRunError, match="does not exist"):
        open_run(LocalRunReader(tmp_path), "runs/run_id=20261104T120000Z/manifest.json")


def test_given_a_part_file_shorter_than_announced_when_read_then_the_load_fails_at_its_end(
    published_run: PublishedRun, tmp_path: Path
) -> None:
    folder = _copy(published_run, tmp_path)
    part = folder / f"identity_links/run_id={published_run.run_id}/part-00000.json"
    part.write_text("".join(part.read_text().splitlines(keepends=True)[:-1]))
    run = open_run(LocalRunReader(folder), published_run.manifest_key)

    with pytest.raises(IncompleteRunError, match="manifest announces"):
        list(run.records("identity_links", IdentityLinkLine))


def test_given_a_malformed_line_when_read_then_the_error_names_line_and_field_but_no_value(
    published_run: PublishedRun, tmp_path: Path
) -> None:
    folder = _copy(published_run, tmp_path)
    part = folder / f"identity_links/run_id={published_run.run_id}/part-00000.json"
    part.write_text('{"identifier_type": "fax", "identifier": "ada@example.com", "golden_id": "gc-1"}\n')
    run = open_run(LocalRunReader(folder), published_run.manifest_key)

    with pytest.raises(MalformedLineError, match=r"line 1 .*identifier_type") as failure:
        list(run.records("identity_links", IdentityLinkLine))
    assert "ada@example.com" not in str(failure.value)


def test_given_spark_style_part_files_and_markers_when_listed_then_only_parts_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "merges/run_id=20261104T120000Z"
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").write_text("")
    (folder / "part-00000-5e1a-c000.txt").write_text('{"old_golden_id": "gc-a", "new_golden_id": "gc-b"}\n')

    assert LocalRunReader(tmp_path).part_keys("merges/run_id=20261104T120000Z/") == [
        "merges/run_id=20261104T120000Z/part-00000-5e1a-c000.txt"
    ]
