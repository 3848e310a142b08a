"""Step 1, customer domain: synthetic source customers, the local matching run, the loader filling the tables.

The run is published to the curated bucket exactly as the Glue job lays it out
(`glue_jobs.dedupe.write_run` under the stack's MDM prefix, manifest last). The
bucket's EventBridge notifications are on as its template sets them, so moto puts
each object's S3 "Object Created" event on the default bus itself; the
customer-domain stack's rule keeps the manifest's, and the real MDM loader
handler loads the run into the customer and identity-map tables.

With `mdm.engine: entity-resolution` synthesized, the matching job is a local
stand-in of AWS Entity Resolution's output (`sandbox.steps.entity_resolution`,
named as such in the report's notes); its publication is the Glue job's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from glue_jobs.dedupe import DedupeResult, dedupe, write_run
from glue_jobs.evaluation import pairwise_scores
from glue_jobs.run_layout import new_run_id
from glue_jobs.synthetic_customers import TRUTH_COLUMN, generate_customers
from infra.stacks.customer_domain_stack import MDM_PREFIX
from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
    PROFILE_RECORD,
)
from omni_domain.identifiers import identifier_key
from sandbox.async_invoke import invoke_async
from sandbox.context import GoldenCustomer, RunContext
from sandbox.platform import SandboxError
from sandbox.steps import entity_resolution

LOADER_HANDLER = "mdm_loader.handler.lambda_handler"
# The source systems the sandbox's customers come from (the generator knows a fourth, loyalty).
SANDBOX_SOURCE_SYSTEMS = ("crm", "ecommerce", "store_pos")


class MatchingFailedError(RuntimeError):
    """The local matching engine refused this data set."""


@dataclass(frozen=True)
class MdmResult:
    source_records: int
    source_systems: dict[str, int]
    true_customers: int
    true_duplicates: int  # records that are a further copy of a customer already seen (the generator's truth)
    golden_records: int
    duplicates_found: int  # records merged into another record's golden record
    precision: float
    recall: float
    f1: float
    identity_links: int
    ambiguous_identifiers: int
    rule: str
    golden_ids_resolvable: int
    golden_ids_unresolvable: int
    profiles_loaded: int
    population: list[GoldenCustomer] = field(repr=False, default_factory=list)
    sample_cluster: list[str] = field(default_factory=list)
    engine: str = "splink-duckdb"
    engine_run: dict[str, object] | None = None  # a managed engine's job, as its manifest says
    notes: list[str] = field(default_factory=list)


def run(context: RunContext) -> MdmResult:
    say = context.progress.step("mdm")
    platform = context.platform
    records = generate_customers(context.sizes.customers, seed=context.sizes.seed, systems=SANDBOX_SOURCE_SYSTEMS)
    truth = dict(zip(records["source_system"] + ":" + records["source_id"], records[TRUTH_COLUMN], strict=True))
    systems = Counter(records["source_system"])
    say(f"{len(records):,} source records of {records[TRUTH_COLUMN].nunique():,} customers in {len(systems)} systems")
    workflow = entity_resolution.workflow_of(platform)
    engine, engine_run, notes = "splink-duckdb", None, []
    source = records.drop(columns=TRUTH_COLUMN)
    if workflow is None:
        result = _local_run(context, source, say)
    else:
        local = _local_run(context, source, say) if workflow.matching == "ml" else None
        stand_in = entity_resolution.match(platform, workflow, source, local, context.now)
        result, engine, engine_run = stand_in.result, entity_resolution.ENGINE, stand_in.engine_run
        notes.append(
            entity_resolution.STAND_IN_NOTE.format(what=workflow.described)
            + f"; {stand_in.held_apart} record(s) held apart below the minimum confidence"
        )
        say(f"workflow {workflow.name}: stand-in job {stand_in.job_id} output at {stand_in.output_key}")
    scores = pairwise_scores(result.clusters, truth)
    say(f"{len(result.golden_records):,} golden records; {scores.summary()}")

    run_id = new_run_id(context.now)
    _publish(context, result, run_id, engine=engine, engine_run=engine_run)
    routed = platform.deliveries_to(LOADER_HANDLER)
    if routed is None:
        raise SandboxError(f"no rule delivers to {LOADER_HANDLER}")
    rule_name, deliveries = routed
    summaries = []
    for delivered in deliveries:
        # The rule's target is invoked asynchronously: Lambda retries a failed load, then dead-letters the event.
        outcome = invoke_async(platform, LOADER_HANDLER, delivered)
        summaries.append(outcome.answer)
        if context.faults is not None:
            context.faults.settle_pending("retry (Lambda async)" if outcome.error is None else "dead-letter queue")
        if outcome.error is not None:
            notes.append(f"the loader gave up after {outcome.attempts} attempts (dead-letter queue): {outcome.error}")
    say(f"rule {rule_name} delivered {len(summaries)} manifest event(s) to the loader")
    resolvable, unresolvable, profiles = _check_resolution(context, result)
    say(f"{resolvable:,} golden ids resolve through the identity map, {unresolvable} do not")
    biggest = max(result.golden_records, key=lambda record: len(record.survived.members))
    return MdmResult(
        source_records=len(records),
        source_systems=dict(sorted(systems.items())),
        true_customers=int(records[TRUTH_COLUMN].nunique()),
        true_duplicates=len(records) - int(records[TRUTH_COLUMN].nunique()),
        golden_records=len(result.golden_records),
        duplicates_found=len(records) - len(result.golden_records),
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        identity_links=len(result.links.links),
        ambiguous_identifiers=len(result.links.ambiguous),
        rule=rule_name,
        golden_ids_resolvable=resolvable,
        golden_ids_unresolvable=unresolvable,
        profiles_loaded=profiles,
        population=_population(context, result),
        sample_cluster=[f"{biggest.golden_id} <- {', '.join(biggest.survived.members)}"],
        engine=engine,
        engine_run=engine_run,
        notes=notes,
    )


def _local_run(context: RunContext, source: pd.DataFrame, say: Callable[[str], None]) -> DedupeResult:
    try:
        return dedupe(source, progress=say)
    except ValueError as error:  # the engine refuses input it cannot match (e.g. a source record twice)
        raise MatchingFailedError(
            f"the matching engine could not match {len(source):,} records (seed {context.sizes.seed}): "
            f"{str(error).rstrip('.')}."
        ) from error


def _publish(
    context: RunContext, result: DedupeResult, run_id: str, *, engine: str, engine_run: dict[str, object] | None
) -> None:
    """Upload the run in the published layout under the MDM prefix, the manifest last."""
    local = context.workdir / "mdm"
    manifest = write_run(result, local, run_id, engine, engine_run=engine_run)
    s3 = context.platform.client("s3")
    bucket = context.platform.bucket(_curated_bucket_suffix(context))
    files = sorted(path for path in local.rglob("*") if path.is_file() and path != manifest)
    for path in [*files, manifest]:
        s3.put_object(Bucket=bucket, Key=MDM_PREFIX + path.relative_to(local).as_posix(), Body=path.read_bytes())


def _curated_bucket_suffix(context: RunContext) -> str:
    return f"curated-{context.platform.account}-{context.platform.region}"


def _scan(context: RunContext, table: str, projection: str, names: dict[str, str]) -> list[dict[str, Any]]:
    paginator = context.platform.client("dynamodb").get_paginator("scan")
    return [
        item
        for page in paginator.paginate(TableName=table, ProjectionExpression=projection, ExpressionAttributeNames=names)
        for item in page["Items"]
    ]


def _check_resolution(context: RunContext, result: DedupeResult) -> tuple[int, int, int]:
    """Golden ids whose every member record resolves to them through the identity map, and profiles present."""
    platform = context.platform
    identity = {
        item[IDENTITY_PARTITION_KEY]["S"]: item[IDENTITY_CUSTOMER_ATTRIBUTE]["S"]
        for item in _scan(
            context,
            platform.table("identity-map"),
            "#k, #c",
            {"#k": IDENTITY_PARTITION_KEY, "#c": IDENTITY_CUSTOMER_ATTRIBUTE},
        )
    }
    profiles = {
        item[CUSTOMER_PARTITION_KEY]["S"]
        for item in _scan(
            context, platform.table("customers"), "#k, #r", {"#k": CUSTOMER_PARTITION_KEY, "#r": CUSTOMER_SORT_KEY}
        )
        if item[CUSTOMER_SORT_KEY]["S"] == PROFILE_RECORD
    }
    resolvable = 0
    for record in result.golden_records:
        members_resolve = all(
            identity.get(identifier_key("source", member)) == record.golden_id for member in record.survived.members
        )
        resolvable += members_resolve and record.golden_id in profiles
    return resolvable, len(result.golden_records) - resolvable, len(profiles)


def _population(context: RunContext, result: DedupeResult) -> list[GoldenCustomer]:
    """The golden customers the journeys address, each with a hidden intent (what the propensity model learns)."""
    rng = context.rng
    people = []
    for record in result.golden_records:
        values = record.survived.values

        def value(name: str, values: Any = values) -> str | None:
            found = values.get(name)
            return found.value if found is not None else None

        people.append(
            GoldenCustomer(
                golden_id=record.golden_id,
                first_name=value("first_name"),
                email=value("email"),
                phone=value("phone"),
                intent=round(rng.betavariate(1.2, 3.0), 4),
            )
        )
    return people
