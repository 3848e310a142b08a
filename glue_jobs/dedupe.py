"""The local matching run: normalise, match, survive, publish.

`dedupe` is what `omni mdm dedupe` and the sandbox call; `write_run` lays its
result out exactly like the Glue 5.0 job does in S3 (see `glue_jobs.run_layout`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS, check_columns
from glue_jobs.golden_ids import Merge, merges_between
from glue_jobs.matching_engine import MatchOutcome, Progress, match_local, no_progress
from glue_jobs.matching_model import MatchSettings
from glue_jobs.normalise import normalise_frame
from glue_jobs.publication import (
    GoldenRecord,
    IdentityLink,
    ResolvedLinks,
    candidate_links,
    golden_record,
    merge_to_json,
    prepare_record,
    resolve_links,
    source_links,
)
from glue_jobs.run_layout import MANIFEST_NAME, Dataset, dataset_prefix, manifest_key
from glue_jobs.survivorship import DEFAULT_POLICY, SourceRecord, SurvivorshipPolicy


@dataclass(frozen=True, slots=True)
class DedupeResult:
    """Everything one local run publishes."""

    golden_records: list[GoldenRecord]
    links: ResolvedLinks
    merges: list[Merge]
    outcome: MatchOutcome

    @property
    def clusters(self) -> dict[str, str]:
        """`record key -> golden id` of every input record."""
        return {member: record.golden_id for record in self.golden_records for member in record.survived.members}


def golden_records_from_clusters(
    records: pd.DataFrame, clusters: Mapping[str, str], policy: SurvivorshipPolicy = DEFAULT_POLICY
) -> tuple[list[GoldenRecord], list[IdentityLink]]:
    """Golden records of `records` grouped by `clusters` (record key -> cluster id), with their candidate links."""
    members: dict[str, list[SourceRecord]] = defaultdict(list)
    for row in records[list(SOURCE_COLUMNS)].to_dict(orient="records"):
        record = prepare_record(row)
        members[clusters[record.key]].append(record)
    golden = []
    links: list[IdentityLink] = []
    for cluster in members.values():
        survivor = golden_record(cluster, policy)
        golden.append(survivor)
        links.extend(candidate_links(cluster, survivor.golden_id))
    golden.sort(key=lambda record: record.golden_id)
    return golden, links


def dedupe(
    records: pd.DataFrame,
    *,
    settings: MatchSettings | None = None,
    policy: SurvivorshipPolicy = DEFAULT_POLICY,
    previous_links: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
) -> DedupeResult:
    """Match customer records (customer schema) and build golden records and identity links.

    `previous_links` (record key -> golden id of the last published run) turns cluster
    changes into merges.
    """
    check_columns(records.columns)
    duplicated = records.duplicated(subset=["source_system", "source_id"])
    if duplicated.any():
        first = records[duplicated].iloc[0]
        raise ValueError(f"source record {first['source_system']}:{first['source_id']} appears more than once")
    progress(f"normalising {len(records):,} records")
    normalised = normalise_frame(records)
    outcome = match_local(normalised, settings, progress)
    progress("applying survivorship")
    clusters = dict(zip(outcome.clusters["unique_id"], outcome.clusters["cluster_id"].astype(str), strict=True))
    golden, candidates = golden_records_from_clusters(records, clusters, policy)
    links = resolve_links(candidates)
    merges = merges_between(previous_links or {}, source_links(links.links))
    return DedupeResult(golden_records=golden, links=links, merges=merges, outcome=outcome)


def _write_lines(output_dir: Path, dataset: Dataset, run_id: str, lines: list[str]) -> str:
    folder = output_dir / dataset_prefix(dataset, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-00000.json").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return dataset_prefix(dataset, run_id)


def write_run(
    result: DedupeResult,
    output_dir: Path,
    run_id: str,
    engine: str = "splink-duckdb",
    *,
    engine_run: Mapping[str, Any] | None = None,
) -> Path:
    """Write a run in the published layout; the manifest comes last so a reader never sees half a run.

    `engine_run` stands for a managed engine's job (the sandbox's Entity Resolution stand-in): its run
    carries what the job decided instead of the local model and its scored pairs, as the Glue job's does.
    """
    prefixes = {
        "golden_records": _write_lines(
            output_dir, "golden_records", run_id, [r.to_json() for r in result.golden_records]
        ),
        "identity_links": _write_lines(
            output_dir, "identity_links", run_id, [link.to_json() for link in result.links.links]
        ),
        "merges": _write_lines(output_dir, "merges", run_id, [merge_to_json(merge) for merge in result.merges]),
    }
    if engine_run is None:
        pairs = result.outcome.pairs.to_json(orient="records", lines=True)
        prefixes["match_pairs"] = _write_lines(output_dir, "match_pairs", run_id, pairs.splitlines())
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "engine": engine,
        "records": sum(len(record.survived.members) for record in result.golden_records),
        "golden_records": len(result.golden_records),
        "identity_links": len(result.links.links),
        "ambiguous_identifiers": len(result.links.ambiguous),
        "merges": len(result.merges),
        "prefixes": prefixes,
    }
    if engine_run is None:
        manifest["model"] = result.outcome.model
    else:
        manifest["engine_run"] = dict(engine_run)
    path = output_dir / manifest_key(run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return path


def latest_source_links(output_dir: Path) -> dict[str, str]:
    """`record key -> golden id` of the newest complete run in `output_dir` (empty if none)."""
    manifests = sorted((output_dir / "runs").glob(f"run_id=*/{MANIFEST_NAME}"))
    if not manifests:
        return {}
    manifest = json.loads(manifests[-1].read_text(encoding="utf-8"))
    result: dict[str, str] = {}
    # Either engine's part files: `part-00000.json` from this run, `part-*-c000.txt` from Spark.
    for part in sorted((output_dir / manifest["prefixes"]["identity_links"]).glob("part-*")):
        for line in part.read_text(encoding="utf-8").splitlines():
            link = json.loads(line)
            if link["identifier_type"] == "source":
                result[link["identifier"]] = link["golden_id"]
    return result
