"""The clean-up plan: the newest runs and whatever an endpoint uses are kept, the rest removed configs first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model_cleanup.cleanup import Artefact, Inventory, Kind, plan

START = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)


def runs(count: int) -> tuple[Artefact, ...]:
    """`count` weekly runs, each a model then its endpoint config a minute later (run-01 the oldest)."""
    return tuple(
        Artefact(kind, f"propensity-run-{week:02d}", START + timedelta(weeks=week, minutes=minute))
        for week in range(1, count + 1)
        for minute, kind in enumerate((Kind.MODEL, Kind.ENDPOINT_CONFIG))
    )


def names(artefacts: tuple[Artefact, ...]) -> list[str]:
    return [f"{a.kind}/{a.name}" for a in artefacts]


def test_the_newest_runs_are_kept_and_older_ones_removed_endpoint_configs_first() -> None:
    inventory = Inventory(
        runs(5), configs_in_use=frozenset({"propensity-run-05"}), models_in_use=frozenset({"propensity-run-05"})
    )
    decided = plan(inventory, keep=2)
    assert sorted(names(decided.keep)) == [
        "endpoint-config/propensity-run-04",
        "endpoint-config/propensity-run-05",
        "model/propensity-run-04",
        "model/propensity-run-05",
    ]
    assert names(decided.remove) == [
        "endpoint-config/propensity-run-01",
        "endpoint-config/propensity-run-02",
        "endpoint-config/propensity-run-03",
        "model/propensity-run-01",
        "model/propensity-run-02",
        "model/propensity-run-03",
    ]


def test_what_the_endpoint_uses_is_kept_however_old() -> None:
    # the endpoint still serves run 1 (later runs were gated out after creating their model and config)
    inventory = Inventory(
        runs(4), configs_in_use=frozenset({"propensity-run-01"}), models_in_use=frozenset({"propensity-run-01"})
    )
    decided = plan(inventory, keep=1)
    assert sorted(names(decided.keep)) == [
        "endpoint-config/propensity-run-01",
        "endpoint-config/propensity-run-04",
        "model/propensity-run-01",
        "model/propensity-run-04",
    ]
    assert {a.name for a in decided.in_use} == {"propensity-run-01"}


def test_keep_zero_removes_everything_no_endpoint_uses() -> None:
    decided = plan(Inventory(runs(3)), keep=0)
    assert decided.keep == ()
    assert len(decided.remove) == 6


def test_nothing_is_removed_while_an_endpoint_moves_between_configs() -> None:
    decided = plan(Inventory(runs(4), unsettled_endpoints=("omni-cx-dev-propensity (Updating)",)), keep=1)
    assert decided.remove == ()
    assert len(decided.keep) == 8
    assert decided.blocked_by == ("omni-cx-dev-propensity (Updating)",)


def test_a_negative_keep_is_refused() -> None:
    with pytest.raises(ValueError, match="keep must be 0 or more"):
        plan(Inventory(runs(1)), keep=-1)


@given(
    count=st.integers(min_value=0, max_value=12),
    keep=st.integers(min_value=0, max_value=5),
    used=st.sets(st.integers(min_value=1, max_value=12), max_size=3),
)
def test_nothing_in_use_is_ever_removed_and_each_artefact_is_kept_or_removed_once(
    count: int, keep: int, used: set[int]
) -> None:
    in_use = frozenset(f"propensity-run-{week:02d}" for week in used)
    inventory = Inventory(runs(count), configs_in_use=in_use, models_in_use=in_use)
    decided = plan(inventory, keep=keep)
    assert sorted(decided.keep + decided.remove) == sorted(inventory.artefacts)
    assert not {a.name for a in decided.remove} & in_use
    kept_runs = {a.name for a in decided.keep}
    assert len(kept_runs - in_use) <= keep
    newest = {f"propensity-run-{week:02d}" for week in range(max(1, count - keep + 1), count + 1)}
    assert newest <= kept_runs
    # a model is never removed before the endpoint config that names it
    order = [(a.kind, a.name) for a in decided.remove]
    for position, (kind, name) in enumerate(order):
        if kind is Kind.MODEL:
            assert (Kind.ENDPOINT_CONFIG, name) not in order[position:]
