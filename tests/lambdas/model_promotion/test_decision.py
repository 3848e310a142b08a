"""Champion/challenger decisions: both outcomes, the first run, the floor, a champion that could not be scored."""

from __future__ import annotations

import pytest

from model_promotion.constants import (
    APPROVED,
    AWAIT_APPROVAL,
    BELOW_FLOOR,
    DEPLOY,
    KEEP_CHAMPION,
    PENDING,
    REJECTED,
)
from model_promotion.decision import Policy, decide, metric

CHAMPION = "arn:aws:sagemaker:eu-west-2:123456789012:model-package/omni-cx-dev-propensity/3"
AUTO = Policy(floor=0.78, margin=0.002, manual_approval=False)


def _metrics(auc: float | None, champion: float | None = None, brier: float = 0.08) -> list[dict[str, object]]:
    reported: list[dict[str, object]] = [{"MetricName": "validation:brier", "Value": brier}]
    if auc is not None:
        reported.append({"MetricName": "validation:auc", "Value": auc})
    if champion is not None:
        reported.append({"MetricName": "champion:auc", "Value": champion})
    return reported


def test_a_challenger_better_than_the_champion_by_the_margin_is_approved() -> None:
    decision = decide(_metrics(0.812, champion=0.805), champion=CHAMPION, policy=AUTO)
    assert (decision.outcome, decision.status, decision.promoted) == (DEPLOY, APPROVED, True)
    assert (decision.challenger_auc, decision.champion_auc, decision.challenger_brier) == (0.812, 0.805, 0.08)
    assert "challenger AUC 0.8120 beats champion AUC 0.8050" in decision.reason


def test_a_challenger_not_better_by_the_margin_keeps_the_champion_and_says_why_with_both_aucs() -> None:
    # better, but by less than the margin: not worth a deployment
    decision = decide(_metrics(0.806, champion=0.805), champion=CHAMPION, policy=AUTO)
    assert (decision.outcome, decision.status, decision.promoted) == (KEEP_CHAMPION, REJECTED, False)
    assert decision.reason == (
        "champion kept: challenger AUC 0.8060 does not beat champion AUC 0.8050 by the margin 0.002 "
        "(needs 0.8070) on the same holdout"
    )


def test_exactly_the_margin_is_enough() -> None:
    assert decide(_metrics(0.75, champion=0.5), champion=CHAMPION, policy=Policy(0.6, 0.25, False)).outcome == DEPLOY


def test_the_first_model_is_judged_on_the_floor_alone() -> None:
    decision = decide(_metrics(0.79), champion=None, policy=AUTO)
    assert (decision.outcome, decision.champion_auc) == (DEPLOY, None)
    assert decision.reason.startswith("first model: challenger AUC 0.7900 reaches the floor 0.78")


def test_a_champion_auc_without_a_champion_is_ignored() -> None:
    assert decide(_metrics(0.79, champion=0.95), champion=None, policy=AUTO).outcome == DEPLOY


def test_a_champion_that_could_not_be_scored_leaves_the_floor_as_the_only_test() -> None:
    decision = decide(_metrics(0.79), champion=CHAMPION, policy=AUTO)
    assert decision.outcome == DEPLOY
    assert "the champion could not be scored" in decision.reason


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        (_metrics(0.70, champion=0.60), "validation AUC 0.7000 is under the floor 0.78"),
        (_metrics(None, champion=0.80), "the training job reported no validation AUC"),
    ],
    ids=["under-the-floor-even-if-better-than-the-champion", "no-auc"],
)
def test_a_challenger_under_the_floor_is_never_served(metrics: list[dict[str, object]], reason: str) -> None:
    decision = decide(metrics, champion=CHAMPION, policy=AUTO)
    assert (decision.outcome, decision.status, decision.promoted) == (BELOW_FLOOR, REJECTED, False)
    assert decision.reason.startswith(reason)


def test_with_manual_approval_a_promoted_model_waits_and_a_rejected_one_stays_rejected() -> None:
    manual = Policy(floor=0.78, margin=0.002, manual_approval=True)
    waiting = decide(_metrics(0.82, champion=0.80), champion=CHAMPION, policy=manual)
    assert (waiting.outcome, waiting.status, waiting.promoted) == (AWAIT_APPROVAL, PENDING, True)
    assert waiting.reason.endswith("awaiting manual approval before it serves")
    kept = decide(_metrics(0.80, champion=0.80), champion=CHAMPION, policy=manual)
    assert (kept.outcome, kept.status) == (KEEP_CHAMPION, REJECTED)


def test_metrics_are_read_by_name() -> None:
    assert metric(_metrics(0.8, champion=0.7), "champion:auc") == 0.7
    assert metric(_metrics(0.8), "champion:auc") is None


@pytest.mark.parametrize(("floor", "margin"), [(0.5, 0.0), (1.1, 0.0), (0.8, -0.01), (0.8, 0.5)])
def test_a_policy_out_of_range_is_refused(floor: float, margin: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        Policy(floor=floor, margin=margin, manual_approval=False)
