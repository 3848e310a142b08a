"""Population stability index, pure: hand-computed examples, the baseline's binning rules, sparse features."""

from __future__ import annotations

import math

import pytest

from feature_drift.psi import Baseline, FeatureDrift, drift, psi
from propensity.baseline import feature_baseline
from propensity.features import FeatureSpec

BASELINE = Baseline.model_validate(
    {
        "version": 1,
        "features": {
            "tenure_days": {"kind": "numeric", "edges": [1.0, 2.0], "proportions": [0.5, 0.25, 0.25]},
            "preferred_channel": {"kind": "categorical", "proportions": {"web": 0.6, "store": 0.4, "__other__": 0.0}},
        },
    }
)


def test_psi_by_hand() -> None:
    # (0.25 - 0.5) * ln(0.25 / 0.5) + (0.75 - 0.5) * ln(0.75 / 0.5) = 0.173287 + 0.101366
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    assert psi([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_an_empty_bin_is_floored_not_infinite() -> None:
    # (1e-4 - 0.5) * ln(1e-4 / 0.5) + (1 - 0.5) * ln(1 / 0.5)
    expected = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + 0.5 * math.log(2)
    assert psi([0.5, 0.5], [0.0, 1.0]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="same bins"):
        psi([1.0], [0.5, 0.5])


def test_numeric_bins_hold_values_up_to_and_including_their_upper_edge() -> None:
    # 0 and 1 in bin 0 (v <= 1), 2 in bin 1 (1 < v <= 2), 3 in bin 2: the training shares exactly
    [channel, tenure] = drift(BASELINE, [{"tenure_days": v} for v in (0.0, 1.0, 2.0, 3.0)], min_rows=1)
    assert tenure == FeatureDrift("tenure_days", 0.0, 4)
    assert channel == FeatureDrift("preferred_channel", None, 0)  # absent from every row: missing, not measured


def test_categories_never_seen_in_training_count_as_other() -> None:
    rows = [{"preferred_channel": c} for c in ("web", "web", "app", "store")]
    # web 0.5 (0.6), store 0.25 (0.4), other 0.25 (0, floored):
    # (0.5 - 0.6) ln(0.5 / 0.6) + (0.25 - 0.4) ln(0.25 / 0.4) + (0.25 - 1e-4) ln(0.25 / 1e-4) = 2.043962
    [channel, _] = drift(BASELINE, rows, min_rows=1)
    assert channel.psi == pytest.approx(2.043962, abs=1e-6)


def test_missing_values_are_left_out_and_json_or_csv_spellings_are_one_category() -> None:
    baseline = Baseline.model_validate(
        {"version": 1, "features": {"consent": {"kind": "categorical", "proportions": {"True": 0.5, "False": 0.5}}}}
    )
    rows: list[dict[str, object]] = [{"consent": True}, {"consent": False}, {"consent": None}, {"consent": ""}, {}]
    assert drift(baseline, rows, min_rows=1) == [FeatureDrift("consent", 0.0, 2)]


def test_a_feature_with_fewer_live_values_than_the_minimum_is_not_measured() -> None:
    rows = [{"tenure_days": 5.0}] * 9
    assert drift(BASELINE, rows, min_rows=10)[1] == FeatureDrift("tenure_days", None, 9)


def test_a_shifted_population_drifts_and_a_resample_of_the_training_one_does_not() -> None:
    # The baseline exactly as training writes it (propensity.baseline), read back as the drift job reads it.
    training = [{"spend": float(i % 100), "stage": ("loyal", "new", "at_risk")[i % 3], "y": i % 2} for i in range(3000)]
    baseline = Baseline.model_validate(feature_baseline(training, FeatureSpec.fit(training, target="y")))
    same = [{"spend": float((i * 7) % 100), "stage": ("loyal", "new", "at_risk")[i % 3]} for i in range(600)]
    shifted = [{"spend": 50.0 + (i % 100), "stage": "at_risk"} for i in range(600)]
    assert all(d.psi is not None and d.psi < 0.1 for d in drift(baseline, same, min_rows=100))
    assert all(d.psi is not None and d.psi > 0.2 for d in drift(baseline, shifted, min_rows=100))


@pytest.mark.parametrize(
    "feature",
    [
        {"kind": "numeric", "edges": [1.0, 2.0], "proportions": [0.5, 0.5]},
        {"kind": "numeric", "edges": [2.0, 1.0], "proportions": [0.3, 0.3, 0.4]},
        {"kind": "numeric", "edges": [1.0], "proportions": [1.5, -0.5]},
        {"kind": "ordinal", "proportions": {}},
    ],
)
def test_a_malformed_baseline_is_refused(feature: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        Baseline.model_validate({"version": 1, "features": {"x": feature}})
