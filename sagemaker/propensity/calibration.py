"""Score calibration: Platt scaling of the booster's log-odds, fitted on held-out predictions.

The eligibility rules compare scores with fixed thresholds (0.3 should mean a 30 %
take-up), so the served score is `sigmoid(a * margin + b)`, where `margin` is the
booster's raw log-odds and `a`, `b` are fitted by maximum likelihood on predictions
of rows the scoring model never saw (the training rows' out-of-fold predictions).

Why Platt and not isotonic regression: Platt is strictly increasing, so it keeps the
ranking exactly: AUC, the top decile and the champion/challenger comparison are the
same before and after; isotonic regression is a step function that ties scores
(lowering AUC) and needs far more held-out positives than the 11 % of a few
thousand rows to be stable. Boosted trees' miscalibration is mostly a shift and a
stretch in log-odds, which is what the two parameters correct. Saved as JSON
(`calibration.json`) beside the model, so serving needs nothing but numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

FORMAT = "omni-propensity-calibration/1"
_RIDGE = 1e-6  # keeps Newton's step defined when the margins separate the labels perfectly
_ITERATIONS = 100


@dataclass(frozen=True)
class Calibration:
    """`sigmoid(a * margin + b)`; the identity (`a=1, b=0`) leaves the booster's probabilities as they are."""

    a: float = 1.0
    b: float = 0.0
    rows: int = 0  # how many held-out predictions it was fitted on (0: not fitted)

    def apply(self, margins: np.ndarray) -> np.ndarray:
        return _sigmoid(self.a * np.asarray(margins, dtype=np.float64) + self.b)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "method": "platt", "a": self.a, "b": self.b, "rows": self.rows}) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        document = json.loads(text)
        if document.get("format") != FORMAT or document.get("method") != "platt":
            raise ValueError(f"not a Platt calibration of format {FORMAT}")
        return cls(float(document["a"]), float(document["b"]), int(document.get("rows", 0)))


IDENTITY = Calibration()


def fit_platt(margins: np.ndarray, labels: np.ndarray) -> Calibration:
    """Maximum-likelihood `a`, `b` of a logistic regression of the labels on the margins (Newton's method)."""
    x = np.asarray(margins, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("calibration needs as many labels as margins, at least one")
    design = np.column_stack([x, np.ones_like(x)])
    weights = np.array([1.0, 0.0])
    loss = _loss(design, y, weights)
    for _ in range(_ITERATIONS):
        p = _sigmoid(design @ weights)
        gradient = design.T @ (p - y) + _RIDGE * weights
        hessian = (design.T * (p * (1 - p))) @ design + _RIDGE * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        # Newton's full step can overshoot on the logistic loss: halve it until the loss goes down.
        scale = 1.0
        while scale > 1e-6 and _loss(design, y, weights - scale * step) > loss:
            scale /= 2
        weights = weights - scale * step
        new_loss = _loss(design, y, weights)
        if loss - new_loss < 1e-12 * max(1.0, loss):
            break
        loss = new_loss
    return Calibration(round(float(weights[0]), 6), round(float(weights[1]), 6), len(x))


def _loss(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    """The negative log-likelihood (with the ridge term), computed stably from the log-odds."""
    z = design @ weights
    return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * _RIDGE * weights @ weights)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))
