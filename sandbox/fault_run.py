"""`omni sandbox run --faults`: a fault-free run and a run under injected faults, same seed, and what must agree.

Both runs share the seed, the sizes and the clock, so the customers, journeys
and calls are the same; the faulted run's platform gets `sandbox.faults`. Its
checks are the sandbox's own (no event lost, every golden id resolves...) with
the trigger check counted by `trigger_id` (a retried batch may put a trigger
twice; consumers drop the copy), plus:

- state as without faults: every customer's live state (what the events decide)
  and the event ids its ledger holds equal the fault-free run's;
- triggers once per change: the distinct triggers per customer and kind equal
  the fault-free run's, none lost, none extra;
- eligibility answered: every decision call answered, as many as without
  faults, and every decision the rules made alone has its fallback reason in
  the audit log;
- nothing given up silently: every dead letter says why, every exhausted
  batch is in the on-failure queue, every loader event given up is in its
  dead-letter queue with the error, and every injected fault was absorbed.

A failing check names the customer, its events and the fault schedule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.context import Progress, Sizes
from sandbox.faults import FaultInjector, FaultSpec
from sandbox.outcomes import Outcome
from sandbox.run import Check, SandboxReport, _checks, run_sandbox
from sandbox.templates import CloudAssembly, synthesize_assembly

TRIGGER_CHECK = "triggers on the bus"
NOT_ABSORBED = ("NOT absorbed", "unsettled", "never put again")


def run_with_faults(
    sizes: Sizes,
    spec: FaultSpec,
    *,
    env: str = "dev",
    maturity: int = 5,
    templates: CloudAssembly | None = None,
    progress: Progress | None = None,
    workdir: Path | None = None,
    reference: SandboxReport | None = None,
    now: datetime | None = None,
) -> SandboxReport:
    """The run under `spec`'s faults, its checks against a fault-free run of the same seed (run first unless given).

    A `reference` given must be an observed run (`run_sandbox(..., observed=True)`) of the same sizes and seed,
    run with the same `now`.
    """
    progress = progress or Progress()
    if templates is None:
        progress(f"synthesizing {env} at stage {maturity} (cdk-nag included)")
        templates = synthesize_assembly(env, maturity)
    now = now or datetime.now(UTC).replace(microsecond=0)
    if reference is None:
        progress("fault-free run of the same seed (the reference)")
        reference = run_sandbox(
            sizes,
            env=env,
            maturity=maturity,
            templates=templates,
            progress=progress,
            workdir=workdir,
            now=now,
            observed=True,
        )
    elif reference.outcome is None:
        raise ValueError("the reference run must be observed (run_sandbox(..., observed=True))")
    progress(f"the same run under faults: {spec}")
    faulted = run_sandbox(
        sizes,
        env=env,
        maturity=maturity,
        templates=templates,
        progress=progress,
        workdir=workdir,
        faults=spec,
        now=now,
    )
    faulted.checks = fault_checks(faulted, reference)
    return faulted


def fault_checks(report: SandboxReport, reference: SandboxReport) -> list[Check]:
    faults, outcome, base = report.faults, report.outcome, reference.outcome
    if faults is None or outcome is None or base is None:
        raise ValueError("fault checks compare an observed run under faults with an observed fault-free run")
    checks = [check for check in _checks(report) if check.name != TRIGGER_CHECK]
    checks += [
        _same_state(outcome, base, faults),
        _triggers_once(outcome, base, faults),
        _eligibility_answered(report, reference, outcome, faults),
        _given_up_with_reason(report, outcome, faults),
    ]
    return checks


def _schedule(faults: FaultInjector) -> str:
    lines = faults.schedule()
    return "; fault schedule: " + (" | ".join(lines) if lines else "no fault injected")


def _same_state(outcome: Outcome, base: Outcome, faults: FaultInjector) -> Check:
    differing = sorted(
        key for key in set(outcome.states) | set(base.states) if outcome.states.get(key) != base.states.get(key)
    )
    detail = f"{len(outcome.states):,} customers' live states, {len(differing)} differ from the fault-free run"
    if differing:
        key = differing[0]
        detail += f"; first: customer {key}: {_difference(outcome.states.get(key), base.states.get(key))}"
        detail += _schedule(faults)
    return Check("state as without faults", not differing and bool(outcome.states), detail)


def _difference(faulted: dict[str, Any] | None, base: dict[str, Any] | None) -> str:
    if faulted is None:
        return "no live state under faults" + (f"; its events: {', '.join(_events(base)[:12])}" if base else "")
    if base is None:
        return f"no live state without faults; its events: {', '.join(_events(faulted)[:12])}"
    parts = []
    for name in ("applied", "seen"):
        missing, extra = sorted(set(base[name]) - set(faulted[name])), sorted(set(faulted[name]) - set(base[name]))
        if missing or extra:
            parts.append(f"events {name}: missing {missing[:5]}, extra {extra[:5]}")
    live, reference = faulted["live_state"], base["live_state"]
    for field_name in sorted(set(live) | set(reference)):
        if live.get(field_name) != reference.get(field_name):
            parts.append(f"{field_name} {live.get(field_name)!r} (without faults {reference.get(field_name)!r})")
    parts.append(f"its events: {', '.join(_events(base)[:12])}")
    return "; ".join(parts)


def _events(state: dict[str, Any]) -> list[str]:
    return sorted(set(state["applied"]) | set(state["seen"]))


def _triggers_once(outcome: Outcome, base: Outcome, faults: FaultInjector) -> Check:
    wrong = sorted(
        key for key in set(outcome.triggers) | set(base.triggers) if outcome.triggers[key] != base.triggers[key]
    )
    detail = (
        f"{outcome.distinct_triggers} distinct triggers ({outcome.trigger_deliveries} on the bus, copies dropped by"
        f" trigger_id), {base.distinct_triggers} without faults"
    )
    if wrong:
        customer, kind = wrong[0]
        detail += (
            f"; customer {customer}: {outcome.triggers[wrong[0]]} {kind} (without faults {base.triggers[wrong[0]]});"
            f" its events: {', '.join((base.states.get(customer) or {}).get('applied', [])[:12])}" + _schedule(faults)
        )
    return Check("each trigger once per change", not wrong and base.distinct_triggers > 0, detail)


def _eligibility_answered(
    report: SandboxReport, reference: SandboxReport, outcome: Outcome, faults: FaultInjector
) -> Check:
    services = report.services
    fallbacks = services.score_sources.get("fallback", 0)
    recorded = sum(count for reason, count in outcome.fallback_reasons.items() if reason)
    endpoint_faults = sum(faults.injected[kind] for kind in ("sagemaker-error", "sagemaker-timeout"))
    ok = (
        not services.errors
        and services.decisions == reference.services.decisions
        and recorded >= fallbacks
        and (endpoint_faults == 0 or fallbacks > 0)
    )
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(outcome.fallback_reasons.items()) if reason)
    detail = (
        f"{services.decisions} decisions ({reference.services.decisions} without faults), {fallbacks} by the rules"
        f" alone; audit log fallback reasons: {reasons or 'none'}; {len(services.errors)} unexpected answers"
    )
    if services.errors:
        detail += f"; first: {services.errors[0]}" + _schedule(faults)
    return Check("eligibility answered", ok, detail)


def _given_up_with_reason(report: SandboxReport, outcome: Outcome, faults: FaultInjector) -> Check:
    journeys, state = report.journeys, report.state
    silent_letters = [letter for letter in outcome.dead_letters if not letter.get("reason")]
    loader_silent = [letter for letter in outcome.loader_dead_letters if not letter.get("ErrorMessage")]
    unabsorbed = {
        kind: {how: count for how, count in absorbed.items() if how.startswith(NOT_ABSORBED)}
        for kind, absorbed in faults.absorbed.items()
    }
    unabsorbed = {kind: hows for kind, hows in unabsorbed.items() if hows}
    injected = sum(faults.injected.values())
    accounted = sum(sum(absorbed.values()) for absorbed in faults.absorbed.values())
    ok = (
        not silent_letters
        and not loader_silent
        and journeys.failed_batch_records == journeys.tally.failed_after_retries
        and (state is None or state.on_failure_records == state.given_up)
        and not unabsorbed
        and accounted == injected
    )
    parts = [
        f"{len(outcome.dead_letters)} dead letters, each with its reason",
        f"{journeys.on_failure_messages} on-failure records for {journeys.tally.failed_after_retries} events given up",
    ]
    if state is not None:
        parts.append(
            f"{state.on_failure_records} state changes in their on-failure records for {state.given_up} given up"
        )
    parts += [
        f"{len(outcome.loader_dead_letters)} loader events dead-lettered",
        f"{accounted} of {injected} injected faults absorbed",
    ]
    detail = "; ".join(parts)
    if unabsorbed or accounted != injected:
        detail += f"; not absorbed: {unabsorbed}" + _schedule(faults)
    return Check("nothing given up silently", ok, detail)
