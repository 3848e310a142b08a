"""The fault matrix: a reduced sandbox run per fault kind against a fault-free run of the same seed.

Each run is checked as `omni sandbox run --faults` checks it (`sandbox.fault_run`):
no event lost, state as without faults, each trigger once per change,
eligibility answered, state changes published, nothing given up silently. A
failing check's detail names the customer, its events and the fault schedule,
and is what the assertion prints.

The runs are small (30 decisions, 10 rescorings) and share one fault-free
reference and one matching run (same records, same seed: faults are injected
from the loader on). The feature-drift step is left out: it scores hundreds of
decisions twice and no fault kind reaches it. Rates are higher than the demo's
so that a small run meets each kind several times; the seed fixes the schedule,
so "at least one injected" holds run after run. A kind in `OPEN` does not pass
yet; the reason says which defect it found.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

import sandbox.run
from sandbox.context import Progress, Sizes
from sandbox.fault_run import fault_checks, run_with_faults
from sandbox.faults import KINDS, FaultSpec
from sandbox.run import SandboxReport, run_sandbox
from sandbox.steps import mdm, services, state
from sandbox.templates import CloudAssembly

# 300 source records are enough for the matching engine with seed 7 (some small sets defeat Splink's EM).
SIZES = Sizes(customers=300, journeys=300, seed=7)
NOW = datetime.now(UTC).replace(microsecond=0)
SEED = 11
# Per kind, a rate that meets the kind a few times in a run this size, and what must absorb at least one fault.
MATRIX: dict[str, tuple[float, set[str]]] = {
    # Above a few percent the state publisher (two attempts per call, three calls per record) gives batches up.
    "dynamodb-throttle": (0.04, {"retry (SDK)"}),
    "eventbridge-partial": (0.2, {"retry (publisher)"}),
    "sagemaker-error": (0.2, {"fallback"}),
    "sagemaker-timeout": (0.2, {"fallback"}),
    "s3-read-error": (0.5, {"retry (SDK)"}),
    "kinesis-redelivery": (0.5, {"idempotency"}),
}
# Kinds whose run does not pass yet, and why: each is an open defect, not a tolerance.
OPEN = {
    "handler-crash": "a crashed batch is bisected or resent from its earliest failed record, and the event"
    " processor's CartAbandoned trigger (judged at the end of the batch) depends on where batches end: triggers"
    " appear that the fault-free run did not fire",
}


@pytest.fixture(scope="module", autouse=True)
def _small_runs() -> Iterator[None]:
    """Fewer API calls and rescorings, no drift step, one matching run for every run of the module."""
    dedupe = mdm.dedupe
    matched: dict[str, Any] = {}

    def remembered(source: pd.DataFrame, **_: Any) -> Any:
        key = hashlib.sha256(pd.util.hash_pandas_object(source, index=True).to_numpy().tobytes()).hexdigest()
        if key not in matched:
            matched[key] = dedupe(source)
        return matched[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mdm, "dedupe", remembered)
        patch.setattr(services, "DECISIONS", 30)
        patch.setattr(services, "PROFILE_READS", 8)
        patch.setattr(state, "RESCORE_SAMPLE", 10)
        patch.setattr(sandbox.run, "FEATURE_DRIFT_HANDLER", "not.in.this.matrix")
        yield


@pytest.fixture(scope="module")
def reference(dev_templates: CloudAssembly) -> SandboxReport:
    report = run_sandbox(SIZES, templates=dev_templates, progress=Progress(stream=None), now=NOW, observed=True)
    assert report.ok, _failed(report)
    return report


@pytest.fixture(scope="module")
def runs(dev_templates: CloudAssembly, reference: SandboxReport) -> Callable[[str], SandboxReport]:
    """The run of one kind at its matrix rate, run once for the module whichever test asks first."""
    done: dict[str, SandboxReport] = {}

    def run(kind: str) -> SandboxReport:
        if kind not in done:
            done[kind] = _run(f"{kind}={MATRIX[kind][0]},seed={SEED}", dev_templates, reference)
        return done[kind]

    return run


def _run(spec: str, dev_templates: CloudAssembly, reference: SandboxReport) -> SandboxReport:
    return run_with_faults(
        SIZES,
        FaultSpec.parse(spec),
        templates=dev_templates,
        progress=Progress(stream=None),
        reference=reference,
        now=NOW,
    )


def _failed(report: SandboxReport) -> str:
    return "\n".join(f"{check.name}: {check.detail}" for check in report.checks if not check.ok)


def test_the_matrix_covers_every_kind() -> None:
    assert set(MATRIX) | set(OPEN) == set(KINDS)
    assert not set(MATRIX) & set(OPEN)


@pytest.mark.parametrize("kind", list(MATRIX))
def test_each_fault_kind_is_absorbed(kind: str, runs: Callable[[str], SandboxReport]) -> None:
    report = runs(kind)
    faults = report.faults
    assert faults is not None
    assert faults.injected[kind] > 0, f"no {kind} injected in {faults.opportunities[kind]} chances"
    assert report.ok, _failed(report)
    absorbed = faults.absorbed[kind]
    assert sum(absorbed.values()) == faults.injected[kind], dict(absorbed)
    assert MATRIX[kind][1] & set(absorbed), dict(absorbed)


def test_a_broken_property_names_the_customer_its_events_and_the_fault_schedule(
    runs: Callable[[str], SandboxReport], reference: SandboxReport
) -> None:
    """A customer's state or triggers that differ from the reference fail their check with what to look into."""
    run = runs("eventbridge-partial")
    outcome = run.outcome
    assert outcome is not None
    assert run.faults is not None
    assert run.faults.faults
    customer = sorted(outcome.states)[0]
    wrong_state = dict(outcome.states[customer], live_state={**outcome.states[customer]["live_state"], "tier": "x"})
    kind, count = next((key, n) for key, n in outcome.triggers.items() if n)
    triggers = outcome.triggers.copy()
    triggers[kind] = count + 1
    broken = dataclasses.replace(
        run, outcome=dataclasses.replace(outcome, states={**outcome.states, customer: wrong_state}, triggers=triggers)
    )
    failed = {check.name: check.detail for check in fault_checks(broken, reference) if not check.ok}
    assert set(failed) == {"state as without faults", "each trigger once per change"}, failed
    first_fault = str(run.faults.faults[0])
    state_detail = failed["state as without faults"]
    assert f"customer {customer}: " in state_detail
    assert "tier 'x'" in state_detail
    assert "its events: " in state_detail
    assert f"fault schedule: {first_fault}" in state_detail
    trigger_detail = failed["each trigger once per change"]
    assert f"customer {kind[0]}: {count + 1} {kind[1]} (without faults {count})" in trigger_detail
    assert f"fault schedule: {first_fault}" in trigger_detail
