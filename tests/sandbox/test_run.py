"""The sandbox run end to end at small sizes: the report's numbers must agree with each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni_cli.main import build_parser
from sandbox.context import Progress, Sizes
from sandbox.report import render_text, write_html
from sandbox.run import SandboxReport, run_sandbox
from sandbox.templates import CloudAssembly

# 600 source records: the matching engine trains on them with seed 7 (some small sets defeat Splink's EM).
SIZES = Sizes(customers=600, journeys=300, seed=7)


@pytest.fixture(scope="module")
def report(dev_templates: CloudAssembly) -> SandboxReport:
    return run_sandbox(SIZES, templates=dev_templates, progress=Progress(stream=None))


def test_no_event_is_lost(report: SandboxReport) -> None:
    journeys = report.journeys
    tally = journeys.tally
    assert journeys.events_in > SIZES.journeys
    assert journeys.invalid_sent > 0  # the dead-letter path is exercised
    assert tally.duplicates == journeys.duplicates_sent > 0  # so is a copy put twice, and nothing else is one
    assert journeys.events_in == tally.applied_total + tally.duplicates + tally.dead_lettered
    assert tally.dead_lettered == journeys.invalid_sent == journeys.dead_letter_messages
    assert tally.failed_after_retries == journeys.failed_batch_records == 0
    assert journeys.read_back == journeys.events_in == journeys.accounted
    assert journeys.additive_in_ledgers == journeys.additive_reported > 0
    assert journeys.state_items > 0
    assert journeys.consistent


def test_every_golden_id_resolves_through_the_identity_map(report: SandboxReport) -> None:
    assert report.mdm.golden_records > 0
    assert report.mdm.golden_ids_resolvable == report.mdm.golden_records
    assert report.mdm.golden_ids_unresolvable == 0
    assert report.mdm.profiles_loaded == report.mdm.golden_records


def test_matching_scores_against_the_generator_truth(report: SandboxReport) -> None:
    assert 0.0 <= report.mdm.precision <= 1.0
    assert 0.0 <= report.mdm.recall <= 1.0
    assert 0.9 <= report.mdm.f1 <= 1.0
    assert report.mdm.duplicates_found == report.mdm.source_records - report.mdm.golden_records


def test_customers_come_from_three_source_systems(report: SandboxReport) -> None:
    assert set(report.mdm.source_systems) == {"crm", "ecommerce", "store_pos"}
    assert sum(report.mdm.source_systems.values()) == report.mdm.source_records


def test_triggers_fire_and_arrive_on_the_bus(report: SandboxReport) -> None:
    fired = report.journeys.tally.triggers
    assert sum(fired.values()) > 0
    assert dict(report.journeys.bus_events) == dict(fired)


def test_services_decide_with_the_model_standing_in_for_the_endpoint(report: SandboxReport) -> None:
    assert report.services.errors == []
    assert report.services.decisions > 0
    assert report.services.score_sources == {"model": report.services.decisions}
    assert all(decision["reasons"] for decision in report.services.sample_decisions)


def test_state_changes_are_published_for_the_stream_records(report: SandboxReport) -> None:
    assert report.state is not None
    assert report.state.failed_items == 0
    assert 0 < report.state.published_on_bus <= report.state.stream_records


def test_the_call_is_routed_and_the_alert_reaches_the_owning_team(report: SandboxReport) -> None:
    assert report.call.queue is not None
    assert "lookup-caller" in report.call.path
    assert report.alert.state == "ALARM"
    assert report.alert.topic == report.alert.expected_topic == "omni-cx-dev-alerts-customer-care"
    assert report.alert.team == report.alert.config_team == "customer-care"
    # The spike's datapoints are the EventsApplied the processor emitted (EMF), which agree with its report.
    assert sum(report.alert.spike) == report.alert.complaints_applied > 0
    assert report.alert.message
    assert report.ok, [check for check in report.checks if not check.ok]


def test_decisions_say_in_plain_words_what_moved_their_score(report: SandboxReport) -> None:
    # The stood-in endpoint answers with each score's top contributions, as the real one does.
    samples = report.services.sample_decisions
    assert samples
    assert all(len(decision["contributions"]) == 3 for decision in samples)
    assert all(
        any(
            reason.startswith(("likely to take the offer: ", "less likely to take the offer: "))
            for reason in d["reasons"]
        )
        for d in samples
    )


def test_the_drift_alarm_fires_only_for_the_shifted_population(report: SandboxReport) -> None:
    drift = report.drift
    assert drift is not None
    normal, shifted = drift.run("normal"), drift.run("shifted")
    assert normal.decisions == shifted.decisions >= 200  # enough for the job's minimum per input
    assert normal.largest_psi is not None
    assert normal.largest_psi < drift.threshold == 0.2
    assert (normal.status, normal.alarm_state, normal.notified_topic) == ("stable", "OK", None)
    assert shifted.largest_psi is not None
    assert shifted.largest_psi >= drift.threshold
    assert (shifted.status, shifted.alarm_state) == ("drifted", "ALARM")
    assert shifted.notified_topic == drift.expected_topic == "omni-cx-dev-alerts-platform"
    # What the shift changed is what drifted: complaints, this month's spend, the journey stage.
    assert {"complaints", "spend_30d", "journey_stage"} <= set(shifted.drifted)
    assert drift.model_data.endswith("/model.tar.gz")


def test_the_report_is_written_as_text_and_html(report: SandboxReport, tmp_path: Path) -> None:
    text = render_text(report)
    assert "checks" in text
    assert "FAILED" not in text
    page = write_html(report, tmp_path / "sandbox")
    content = page.read_text(encoding="utf-8")
    assert page.name == "report.html"
    assert content.count("<svg") >= 5
    assert "<script" not in content


def test_omni_sandbox_run_is_wired() -> None:
    args = build_parser().parse_args(["sandbox", "run", "--customers", "600", "--journeys", "10", "--seed", "3"])
    assert (args.customers, args.journeys, args.seed) == (600, 10, 3)
    assert args.out == Path("build/sandbox")


def test_the_call_path_shows_no_personal_data(report: SandboxReport) -> None:
    caller = next(c for c in report.mdm.population if c.golden_id == report.call.caller)
    text = render_text(report)
    assert caller.golden_id in text
    for personal in (caller.first_name, caller.phone, caller.email):
        if personal:
            assert personal.lower() not in text.lower()
    if caller.first_name:
        assert any("<first name>" in message for message in report.call.messages)  # the greeting, masked


def test_the_services_report_the_profiles_they_read(report: SandboxReport) -> None:
    reads = report.services.calls["GET /customers/{id} 200"]
    assert report.services.profile_reads == reads > 0
