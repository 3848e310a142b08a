"""The customer domain with `mdm.engine: entity-resolution`: a local stand-in of AWS Entity Resolution.

The service cannot run offline, so something stands in for its matching job, and
the report says so. The stand-in writes what a job of the synthesized workflow
writes (its documented output, `glue_jobs.entity_resolution_schema`): CSV with a
header under `<workflow output path><workflow>/<job id>/success/` in the curated
bucket, every input column plus `InputSourceARN`, `MatchID` and
- for ML matching, `ConfidenceLevel`: the stand-in's match sets are the local
  Splink model's clusters, and a set's confidence is the lowest match probability
  among its scored pairs (the model's own confidence that the whole set is one person);
- for rules matching, `MatchRule`: the workflow's rules (same name and birth date;
  same e-mail and name) applied to the normalised records.

From there on nothing is a stand-in but the Spark runtime: the output is read
back from the bucket, each match set is decided by the function the Glue
publication job runs (`glue_jobs.entity_resolution_output`, with the job's
`--min_confidence` from the template), the clusters go through the shared
survivorship and identity-link resolution, and the run is published in the run
layout (manifest last) for the loader, as for any engine.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from glue_jobs.customer_schema import SOURCE_COLUMNS, record_key
from glue_jobs.dedupe import DedupeResult, golden_records_from_clusters
from glue_jobs.entity_resolution_output import clusters_of_output
from glue_jobs.entity_resolution_schema import (
    CONFIDENCE_LEVEL,
    MATCH_ID,
    MATCH_RULE,
    RULES,
    UNIQUE_ID_FIELD,
    job_output,
)
from glue_jobs.matching_engine import MatchOutcome
from glue_jobs.normalise import normalise_frame
from glue_jobs.publication import resolve_links
from sandbox.platform import LocalPlatform, SandboxError

WORKFLOW_TYPE = "AWS::EntityResolution::MatchingWorkflow"
ENGINE = "entity-resolution"
STAND_IN_NOTE = (
    "matching engine entity-resolution: AWS Entity Resolution cannot run offline, so a local stand-in wrote its "
    "documented output ({what}); publication, the loader and everything after ran for real"
)
# The Splink columns each rule's match keys stand for, on the normalised records.
_RULE_COLUMNS = {"name": ("first_name", "last_name"), "date_of_birth": ("date_of_birth",), "email": ("email",)}


@dataclass(frozen=True)
class Workflow:
    """What the synthesized matching workflow and its publication job say (the stand-in follows the templates)."""

    name: str
    input_source: str
    output_path: str  # s3://bucket/prefix/
    matching: str  # "ml" or "rules"
    min_confidence: float | None

    @property
    def described(self) -> str:
        if self.matching == "ml":
            return f"ML matching: the local Splink model's clusters as MatchID, their lowest pair probability as ConfidenceLevel, min {self.min_confidence}"
        return "rules matching: the workflow's rules on the normalised records, as MatchID and MatchRule"


def workflow_of(platform: LocalPlatform) -> Workflow | None:
    """The synthesized matching workflow, or None when another engine is selected."""
    found = platform.resources(WORKFLOW_TYPE)
    if not found:
        return None
    if len(found) > 1:
        raise SandboxError(f"{len(found)} matching workflows in the templates; the stand-in follows one")
    (resource,) = found
    properties = resource.properties
    resolve = platform.resolver.resolve
    publication = [
        job
        for job in platform.resources("AWS::Glue::Job")
        if "--workflow_name" in job.properties.get("DefaultArguments", {})
    ]
    if len(publication) != 1:
        raise SandboxError("no Glue job publishes the matching workflow's output (--workflow_name)")
    min_confidence = publication[0].properties["DefaultArguments"].get("--min_confidence")
    return Workflow(
        name=str(resolve(properties["WorkflowName"], resource.stack)),
        input_source=str(resolve(properties["InputSourceConfig"][0]["InputSourceARN"], resource.stack)),
        output_path=str(resolve(properties["OutputSourceConfig"][0]["OutputS3Path"], resource.stack)),
        matching="ml" if properties["ResolutionTechniques"]["ResolutionType"] == "ML_MATCHING" else "rules",
        min_confidence=float(min_confidence) if min_confidence is not None else None,
    )


def _match_id(cluster: str) -> str:
    return hashlib.sha256(cluster.encode("utf-8")).hexdigest()[:32]


def ml_output(records: pd.DataFrame, local: DedupeResult) -> pd.DataFrame:
    """The stand-in's ML output: local clusters as match sets, the lowest pair probability as their confidence."""
    clusters = dict(
        zip(local.outcome.clusters["unique_id"], local.outcome.clusters["cluster_id"].astype(str), strict=True)
    )
    lowest: dict[str, float] = {}
    pairs = local.outcome.pairs
    for left, right, probability in zip(
        pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True
    ):
        cluster = clusters[str(left)]
        if clusters[str(right)] == cluster:
            lowest[cluster] = min(lowest.get(cluster, 1.0), float(probability))
    output = _with_keys(records)
    cluster_of = [clusters[key] for key in output[UNIQUE_ID_FIELD]]
    output.insert(1, CONFIDENCE_LEVEL, [lowest.get(cluster, "") for cluster in cluster_of])
    output[MATCH_ID] = [_match_id(cluster) for cluster in cluster_of]
    return output


def rules_output(records: pd.DataFrame) -> pd.DataFrame:
    """The stand-in's rules output: records joined by any rule whose match keys all agree (and are present)."""
    normalised = normalise_frame(records).set_index("unique_id")
    parent = {key: key for key in normalised.index}
    linked_by: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for rule, keys in RULES:
        columns = [column for key in keys for column in _RULE_COLUMNS[key]]
        present = normalised.dropna(subset=columns)
        for _, group in present.groupby(columns, sort=False):
            members = list(group.index)
            for other in members[1:]:
                a, b = root(members[0]), root(other)
                if a != b:
                    parent[b] = a
                    linked_by.setdefault(members[0], rule)
                    linked_by.setdefault(other, rule)
    output = _with_keys(records)
    output.insert(1, MATCH_RULE, [linked_by.get(key, "") for key in output[UNIQUE_ID_FIELD]])
    output[MATCH_ID] = [_match_id(root(key)) for key in output[UNIQUE_ID_FIELD]]
    return output


def _with_keys(records: pd.DataFrame) -> pd.DataFrame:
    keys = [record_key(s, i) for s, i in zip(records["source_system"], records["source_id"], strict=True)]
    output = records[list(SOURCE_COLUMNS)].assign(**{UNIQUE_ID_FIELD: keys})[[UNIQUE_ID_FIELD, *SOURCE_COLUMNS]]
    output.insert(0, "InputSourceARN", "")
    return output


@dataclass(frozen=True)
class StandInRun:
    result: DedupeResult
    job_id: str
    output_key: str  # where the stand-in's output lies in the curated bucket
    held_apart: int
    engine_run: dict[str, object]


def match(
    platform: LocalPlatform, workflow: Workflow, records: pd.DataFrame, local: DedupeResult | None, now: datetime
) -> StandInRun:
    """Write the stand-in's output where the job would, read it back and decide the clusters as the Glue job does.

    `local` (the local Splink run) is what the ML stand-in matches with; the rules stand-in needs none.
    """
    if workflow.matching == "ml":
        if local is None:
            raise SandboxError("the ML stand-in matches with the local model's run, and none was given")
        output = ml_output(records, local)
    else:
        output = rules_output(records)
    output["InputSourceARN"] = workflow.input_source
    job_id = hashlib.sha256(f"{workflow.name}:{now.isoformat()}".encode()).hexdigest()[:32]
    bucket, _, prefix = job_output(workflow.output_path, workflow.name, job_id).removeprefix("s3://").partition("/")
    key = f"{prefix}part-00000.csv"
    s3 = platform.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=output.to_csv(index=False).encode("utf-8"))
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    matched = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    clusters, held_apart = clusters_of_output(matched, workflow.min_confidence)
    golden, candidates = golden_records_from_clusters(matched, clusters)
    links = resolve_links(candidates)
    # The run's outcome is the service's, which scores no pairs and has no model the run could carry.
    outcome = MatchOutcome(clusters=pd.DataFrame(), pairs=pd.DataFrame(), model={})
    result = DedupeResult(golden_records=golden, links=links, merges=[], outcome=outcome)
    engine_run: dict[str, object] = {
        "workflow": workflow.name,
        "job_id": job_id,
        "min_confidence": workflow.min_confidence,
        "records_held_apart": held_apart,
        "stand_in": True,
    }
    return StandInRun(result, job_id, key, held_apart, engine_run)
