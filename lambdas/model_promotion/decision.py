"""Champion/challenger, decided without AWS: does the retrained model (the challenger) replace the approved one?

Both models are scored by the training job on the same validation rows: the challenger's
`validation:auc`, the champion's `champion:auc` (the current approved model package, given to
training as its `champion` channel). The challenger

- is never served under the absolute floor (`propensity.auc_threshold`), nor without an AUC;
- with a champion, must beat its AUC by at least the margin (`propensity.promotion_margin`): a
  new model that is only as good is not worth a deployment, and small differences are noise;
- without a champion (the first run), or when the champion could not be scored on the new rows
  (training says why in its log), is judged on the floor alone.

A promoted model is approved at once, or waits for a person where the environment requires
manual approval. Every outcome carries a reason in plain words with both AUCs, which the
pipeline records on the model package and sends to the team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model_promotion.constants import (
    APPROVED,
    AWAIT_APPROVAL,
    BELOW_FLOOR,
    CHALLENGER_AUC,
    CHALLENGER_BRIER,
    CHAMPION_AUC,
    DEPLOY,
    KEEP_CHAMPION,
    PENDING,
    REJECTED,
)


@dataclass(frozen=True, slots=True)
class Policy:
    floor: float  # the lowest validation AUC ever served
    margin: float  # how much better than the champion a challenger must be
    manual_approval: bool  # a person approves a promoted model before it serves

    def __post_init__(self) -> None:
        if not 0.5 < self.floor <= 1:
            raise ValueError(f"floor must be above 0.5 and at most 1, not {self.floor}")
        if not 0 <= self.margin < 0.5:  # an AUC margin of a half would mean nothing
            raise ValueError(f"margin must be at least 0 and under 0.5, not {self.margin}")


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # DEPLOY, AWAIT_APPROVAL, KEEP_CHAMPION or BELOW_FLOOR
    status: str  # the model package's approval status
    reason: str
    challenger_auc: float | None
    champion_auc: float | None
    challenger_brier: float | None

    @property
    def promoted(self) -> bool:
        return self.outcome in (DEPLOY, AWAIT_APPROVAL)


def metric(metrics: Sequence[Mapping[str, Any]], name: str) -> float | None:
    """A metric of DescribeTrainingJob's FinalMetricDataList, or None when the job did not report it."""
    for item in metrics:
        if item.get("MetricName") == name:
            return float(item["Value"])
    return None


def decide(metrics: Sequence[Mapping[str, Any]], *, champion: str | None, policy: Policy) -> Decision:
    """`champion`: the approved model package's ARN the challenger was compared with, None on a first run."""
    challenger = metric(metrics, CHALLENGER_AUC)
    champion_auc = metric(metrics, CHAMPION_AUC) if champion else None
    brier = metric(metrics, CHALLENGER_BRIER)

    def decided(outcome: str, status: str, reason: str) -> Decision:
        return Decision(outcome, status, reason, challenger, champion_auc, brier)

    if challenger is None:
        return decided(BELOW_FLOOR, REJECTED, "the training job reported no validation AUC: the model is not served")
    if challenger < policy.floor:
        return decided(
            BELOW_FLOOR,
            REJECTED,
            f"validation AUC {challenger:.4f} is under the floor {policy.floor}: the serving model is unchanged",
        )
    if champion is not None and champion_auc is not None:
        bar = champion_auc + policy.margin
        if challenger < bar:
            return decided(
                KEEP_CHAMPION,
                REJECTED,
                f"champion kept: challenger AUC {challenger:.4f} does not beat champion AUC {champion_auc:.4f} "
                f"by the margin {policy.margin} (needs {bar:.4f}) on the same holdout",
            )
        why = f"challenger AUC {challenger:.4f} beats champion AUC {champion_auc:.4f} by at least {policy.margin}"
    elif champion is not None:
        why = (
            f"challenger AUC {challenger:.4f} reaches the floor {policy.floor}; the champion could not be scored "
            "on the new holdout (see the training job's log), so only the floor applies"
        )
    else:
        why = f"first model: challenger AUC {challenger:.4f} reaches the floor {policy.floor}"
    if policy.manual_approval:
        return decided(AWAIT_APPROVAL, PENDING, f"{why}; awaiting manual approval before it serves")
    return decided(DEPLOY, APPROVED, f"{why}; approved")
