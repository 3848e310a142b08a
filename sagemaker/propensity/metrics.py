"""How good the scores are: ranking (AUC, precision in the top decile) and calibration (Brier score, reliability).

The retraining pipeline gates on `auc`; a campaign that calls the top tenth of
customers cares about `precision_at_top_decile`; the eligibility rules compare
scores with fixed thresholds, so they need calibrated probabilities: a score of
0.3 should mean about 30 % (the reliability bins show it per score band).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

RELIABILITY_BINS = 10


def precision_at_top_decile(labels: np.ndarray, scores: np.ndarray) -> float:
    """The positive rate among the 10 % highest-scored rows (at least one row)."""
    top = max(1, int(np.ceil(len(scores) * 0.1)))
    order = np.argsort(-scores, kind="stable")[:top]
    return float(labels[order].mean())


def reliability(labels: np.ndarray, scores: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Equal-width score bins: how many rows, their mean score and the observed positive rate (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        members = index == b
        if members.any():
            table.append(
                {
                    "lower": round(float(edges[b]), 2),
                    "upper": round(float(edges[b + 1]), 2),
                    "count": int(members.sum()),
                    "mean_score": round(float(scores[members].mean()), 4),
                    "positive_rate": round(float(labels[members].mean()), 4),
                }
            )
    return table


def calibration_error(labels: np.ndarray, scores: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """Expected calibration error: the row-weighted mean gap between mean score and observed rate per score band."""
    table = reliability(labels, scores, bins)
    return sum(b["count"] * abs(b["mean_score"] - b["positive_rate"]) for b in table) / max(1, len(labels))


def evaluate(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    return {
        "auc": round(float(roc_auc_score(labels, scores)), 4),
        "precision_at_top_decile": round(precision_at_top_decile(labels, scores), 4),
        "base_rate": round(float(labels.mean()), 4),
        "brier_score": round(float(brier_score_loss(labels, scores)), 4),
        "calibration_error": round(calibration_error(labels, scores), 4),
        "reliability": reliability(labels, scores),
        "rows": len(labels),
    }
