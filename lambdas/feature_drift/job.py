"""One drift check: the serving model's baseline against the inputs of the window's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from feature_drift.psi import FeatureDrift, drift
from feature_drift.settings import DriftSettings
from feature_drift.sources import decision_inputs, read_baseline, serving_model_data


@dataclass(frozen=True)
class DriftReport:
    model_data: str  # the artefacts whose baseline was compared
    since: datetime
    until: datetime
    rows: int  # live decisions read
    threshold: float
    features: list[FeatureDrift]

    @property
    def measured(self) -> list[FeatureDrift]:
        return [feature for feature in self.features if feature.psi is not None]

    @property
    def drifted(self) -> list[FeatureDrift]:
        """Features at or above the threshold, largest shift first."""
        above = [f for f in self.measured if f.psi is not None and f.psi >= self.threshold]
        return sorted(above, key=lambda f: -(f.psi or 0.0))

    @property
    def largest(self) -> float | None:
        return max((f.psi for f in self.measured if f.psi is not None), default=None)


def check(*, sagemaker: Any, s3: Any, dynamodb: Any, settings: DriftSettings, until: datetime) -> DriftReport:
    """BaselineUnavailable when no model serves, or its artefacts hold no baseline."""
    model_data = serving_model_data(sagemaker, settings.endpoint_name)
    baseline = read_baseline(s3, model_data)
    since = until - timedelta(days=settings.window_days)
    rows = decision_inputs(dynamodb, settings.decisions_table, since=since, limit=settings.max_rows)
    return DriftReport(
        model_data=model_data,
        since=since,
        until=until,
        rows=len(rows),
        threshold=settings.threshold,
        features=drift(baseline, rows, min_rows=settings.min_rows),
    )
