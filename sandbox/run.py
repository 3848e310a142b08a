"""The whole sandbox run: stand the platform up, run every step in order, check the numbers agree."""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from feature_drift.constants import FEATURE_DRIFT_HANDLER
from omni_domain.constants import IDENTITY_PARTITION_KEY
from omni_domain.identifiers import identifier_key, normalise_phone
from sandbox.context import GoldenCustomer, Progress, RunContext, Sizes
from sandbox.faults import FaultInjector, FaultSpec
from sandbox.outcomes import Outcome, observe
from sandbox.platform import LocalPlatform, local_platform
from sandbox.steps import alert, call, drift, journeys, mdm, propensity, services, state
from sandbox.templates import CloudAssembly, synthesize_assembly

F1_FLOOR = 0.9


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class SandboxReport:
    env: str
    maturity: str
    sizes: Sizes
    stacks: list[str]
    provisioned: dict[str, int]
    mdm: mdm.MdmResult
    journeys: journeys.JourneysResult
    propensity: propensity.PropensityResult
    services: services.ServicesResult
    state: state.StateChangesResult | None
    call: call.CallResult
    alert: alert.AlertResult
    timings: dict[str, float]
    progress: list[str]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    faults: FaultInjector | None = None  # `--faults`: the schedule injected and what absorbed each fault
    outcome: Outcome | None = None  # what the run left in moto, comparable with another run of the seed
    drift: drift.DriftResult | None = None  # stage 4 on: the feature-drift check, normal and shifted

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _provisioned(platform: LocalPlatform) -> dict[str, int]:
    return {
        "tables": len(platform.client("dynamodb").list_tables()["TableNames"]),
        "streams": len(platform.client("kinesis").list_streams()["StreamNames"]),
        "queues": sum(
            1
            for url in platform.client("sqs").list_queues(MaxResults=1000).get("QueueUrls", [])
            if "omni-sandbox" not in url
        ),
        "buses": len(platform.client("events").list_event_buses()["EventBuses"]) - 1,  # the default bus is AWS's
        "rules": len(platform.rules),
        "buckets": len(platform.client("s3").list_buckets()["Buckets"]),
        "topics": len(platform.client("sns").list_topics()["Topics"]),
        "functions": len(platform.functions()),
    }


def _caller(context: RunContext, population: list[GoldenCustomer], preferred: list[str]) -> GoldenCustomer:
    """A customer whose phone the identity map resolves to them, preferably one the services found eligible."""
    platform = context.platform
    dynamodb = platform.client("dynamodb")
    table = platform.table("identity-map")
    by_id = {customer.golden_id: customer for customer in population}
    candidates = [by_id[i] for i in preferred if i in by_id] + population
    for customer in candidates:
        if not customer.phone:
            continue
        key = identifier_key("phone", normalise_phone(customer.phone))
        item = dynamodb.get_item(TableName=table, Key={IDENTITY_PARTITION_KEY: {"S": key}}).get("Item")
        if item and item.get("customer_id", {}).get("S") == customer.golden_id:
            return customer
    raise LookupError("no golden customer's phone resolves to them through the identity map")


def _checks(report: SandboxReport) -> list[Check]:
    j = report.journeys
    tally = j.tally
    checks = [
        Check(
            "no event lost",
            j.consistent,
            f"{j.events_in:,} put = {j.read_back:,} read back = {tally.applied_total:,} applied"
            f" + {tally.duplicates} duplicates ({j.duplicates_sent} put twice) + {tally.erased_skipped} erased"
            f" + {j.dead_letter_messages} dead-lettered (queue depth)"
            f" + {j.failed_batch_records} in {j.on_failure_messages} failed batches (on-failure queue)"
            f" - {tally.counted_twice} seen twice after a retry ({j.accounted:,});"
            f" {j.additive_in_ledgers:,} additive event ids in the customers' ledgers"
            f" for {j.additive_reported:,} reported applied",
        ),
        Check(
            "every golden id resolves",
            report.mdm.golden_ids_unresolvable == 0 and report.mdm.profiles_loaded == report.mdm.golden_records,
            f"{report.mdm.golden_ids_resolvable:,} of {report.mdm.golden_records:,} golden ids resolve from every member"
            f" record through the identity map; {report.mdm.profiles_loaded:,} profiles loaded",
        ),
        Check(
            "matching quality",
            0.0 <= report.mdm.f1 <= 1.0 and report.mdm.f1 >= F1_FLOOR,
            f"pairwise F1 {report.mdm.f1:.4f} against the generator's truth (floor {F1_FLOOR})",
        ),
        Check(
            "triggers on the bus",
            sum(tally.triggers.values()) > 0
            and all(report.journeys.bus_events.get(kind, 0) == count for kind, count in tally.triggers.items()),
            f"{sum(tally.triggers.values())} triggers fired, {sum(report.journeys.bus_events.values())} arrived on the bus",
        ),
        Check(
            "services answered",
            not report.services.errors and report.services.decisions > 0,
            f"{sum(report.services.calls.values())} API calls, {len(report.services.errors)} unexpected answers",
        ),
        Check(
            "call routed",
            report.call.queue is not None,
            f"{report.call.flow} ended {report.call.end_reason} in {report.call.queue}",
        ),
        Check(
            "alert routed",
            report.alert.state == "ALARM"
            and report.alert.topic == report.alert.expected_topic
            and report.alert.team == report.alert.config_team,
            f"{report.alert.alarm} {report.alert.state} -> {report.alert.topic} (team {report.alert.team};"
            f" the configuration's watch names {report.alert.config_team}, topic {report.alert.expected_topic})",
        ),
    ]
    if report.drift is not None:
        normal, shifted = report.drift.run("normal"), report.drift.run("shifted")
        checks.append(
            Check(
                "drift alarm only for the shifted population",
                normal.alarm_state == "OK"
                and shifted.alarm_state == "ALARM"
                and shifted.notified_topic == report.drift.expected_topic,
                f"largest PSI normal {normal.largest_psi} ({normal.alarm_state}), shifted {shifted.largest_psi}"
                f" ({shifted.alarm_state} -> {shifted.notified_topic}); threshold {report.drift.threshold},"
                f" owning team's topic {report.drift.expected_topic}",
            )
        )
    if report.state is not None:
        checks.append(
            Check(
                "state changes published",
                report.state.published_on_bus > 0
                and report.state.given_up == 0
                and report.state.on_failure_records == report.state.given_up,
                f"{report.state.stream_records:,} stream records -> {report.state.published_on_bus:,} CustomerStateChanged;"
                f" {report.state.failed_items} reported failed and retried ({report.state.retried_records} resent),"
                f" {report.state.given_up} given up, {report.state.on_failure_records} in the on-failure destination",
            )
        )
    return checks


def _prepare(
    context: RunContext, faults: FaultSpec | None, now: datetime | None, cleanup: contextlib.ExitStack
) -> RunContext:
    """The run's clock when given, and the faults' hooks on the platform before any handler runs."""
    if now is not None:
        context.now = now
    if faults is not None:
        context.faults = FaultInjector(faults)
        context.faults.install(context.platform)
        cleanup.callback(context.faults.uninstall)
        context.progress(f"injecting faults: {faults}")
    return context


def _finish(context: RunContext, *, observed: bool) -> Outcome | None:
    """Faults left unsettled counted as such; what the run left in moto, when asked for or under faults."""
    if context.faults is not None:
        context.faults.finish()
    return observe(context) if observed or context.faults is not None else None


def run_sandbox(
    sizes: Sizes,
    *,
    env: str = "dev",
    maturity: int = 5,
    templates: CloudAssembly | None = None,
    progress: Progress | None = None,
    workdir: Path | None = None,
    faults: FaultSpec | None = None,
    now: datetime | None = None,  # the run's clock (two runs compared must share it: journeys are dated from it)
    observed: bool = False,  # read the outcome back from moto at the end (`SandboxReport.outcome`)
) -> SandboxReport:
    progress = progress or Progress()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    if templates is None:
        progress(f"synthesizing {env} at stage {maturity} (cdk-nag included)")
        templates = synthesize_assembly(env, maturity)
    timings["synthesis"] = time.perf_counter() - clock
    with (
        tempfile.TemporaryDirectory(prefix="omni-sandbox-") as scratch,
        local_platform(env=env, maturity=maturity, templates=templates) as platform,
        contextlib.ExitStack() as cleanup,
    ):
        provisioned = _provisioned(platform)
        progress(f"provisioned in moto from {len(templates.stacks)} stacks: {provisioned}")
        context = _prepare(RunContext(platform, sizes, workdir or Path(scratch), progress), faults, now, cleanup)

        def timed(name: str, started: float) -> None:
            timings[name] = time.perf_counter() - started

        started = time.perf_counter()
        mdm_result = mdm.run(context)
        timed("mdm", started)
        started = time.perf_counter()
        journeys_result = journeys.run(context, mdm_result.population)
        timed("journeys", started)
        started = time.perf_counter()
        propensity_result = propensity.run(context, mdm_result.population)
        timed("propensity", started)
        started = time.perf_counter()
        services_result = services.run(context, mdm_result.population, propensity_result.product)
        timed("services", started)
        state_result = None
        notes = list(mdm_result.notes)
        drift_result = None
        if platform.has_function(FEATURE_DRIFT_HANDLER):
            # Before the later steps change customers (the alert's complaint spike): the normal population is
            # the one the model was trained on.
            started = time.perf_counter()
            drift_result = drift.run(context, mdm_result.population, propensity_result.product)
            timed("drift", started)
            notes += drift_result.notes
        if state.available(context):
            started = time.perf_counter()
            state_result = state.run(context)
            timed("state", started)
            notes += state_result.notes
        else:
            notes.append("no state publisher at this stage: the state fan-out step was skipped")
        started = time.perf_counter()
        eligible = [d["customer_id"] for d in services_result.sample_decisions if d.get("eligible")]
        call_result = call.run(context, _caller(context, mdm_result.population, eligible))
        timed("call", started)
        started = time.perf_counter()
        alert_result = alert.run(context, mdm_result.population)
        timed("alert", started)
        outcome = _finish(context, observed=observed)
        report = SandboxReport(
            env=env,
            maturity=platform.config.maturity.label,
            sizes=sizes,
            stacks=sorted(templates.stacks),
            provisioned=provisioned,
            mdm=mdm_result,
            journeys=journeys_result,
            propensity=propensity_result,
            services=services_result,
            state=state_result,
            call=call_result,
            alert=alert_result,
            timings=timings,
            progress=progress.lines,
            notes=notes,
            drift=drift_result,
            faults=context.faults,
            outcome=outcome,
        )
    report.checks = _checks(report)
    return report
