"""Where a matching run's outputs live, under the curated bucket's MDM prefix or a local folder.

The same relative layout is written by `omni mdm dedupe` (local folder) and the
Glue 5.0 job (S3), so the loader and a data steward read either the same way:

    golden_records/run_id=<run>/part-*.json   one golden record per line (JSON Lines)
    identity_links/run_id=<run>/part-*.json   one identifier -> golden id per line
    merges/run_id=<run>/part-*.json           one old golden id -> new golden id per line
    match_pairs/run_id=<run>/part-*.json      scored pairs with per-comparison match weights
    runs/run_id=<run>/manifest.json           written last: the run is complete when it exists
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Dataset = Literal["golden_records", "identity_links", "merges", "match_pairs"]
DATASETS: tuple[Dataset, ...] = ("golden_records", "identity_links", "merges", "match_pairs")
MANIFEST_NAME = "manifest.json"


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts in time order: `20261104T120000Z`."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def dataset_prefix(dataset: Dataset, run_id: str) -> str:
    """The relative folder of one output data set of a run."""
    return f"{dataset}/run_id={run_id}"


def manifest_key(run_id: str) -> str:
    """The relative key of a run's manifest (the loader's S3 event filter: prefix `runs/`, suffix `manifest.json`)."""
    return f"runs/run_id={run_id}/{MANIFEST_NAME}"
