"""The promotion function as the pipeline calls it: the event it builds, the answer it reads, bad events refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from model_promotion.handler import METADATA_VALUE_LIMIT, run

CHAMPION = "arn:aws:sagemaker:eu-west-2:123456789012:model-package/omni-cx-dev-propensity/3"


def _event(**overrides: Any) -> dict[str, Any]:
    event = {
        # DescribeTrainingJob's FinalMetricDataList, as the pipeline passes it on
        "metrics": [
            {"MetricName": "validation:auc", "Value": 0.801, "Timestamp": "2026-05-03T03:40:00Z"},
            {"MetricName": "champion:auc", "Value": 0.812, "Timestamp": "2026-05-03T03:40:00Z"},
            {"MetricName": "validation:brier", "Value": 0.0812, "Timestamp": "2026-05-03T03:40:00Z"},
        ],
        "champions": [CHAMPION],
        "training_job": "propensity-0a1b2c3d4e5f-003-9f8e7d6c",
        "floor": 0.78,
        "margin": 0.002,
        "manual_approval": False,
    }
    return event | overrides


def test_a_worse_challenger_is_rejected_with_the_reason_in_its_metadata() -> None:
    answer = run(_event())
    assert (answer["outcome"], answer["status"]) == ("keep-champion", "Rejected")
    assert (answer["challenger_auc"], answer["champion_auc"]) == (0.801, 0.812)
    assert answer["metadata"] == {
        "training_job": "propensity-0a1b2c3d4e5f-003-9f8e7d6c",
        "validation_auc": "0.801000",
        "validation_brier": "0.081200",
        "champion_auc": "0.812000",
        "champion_package": CHAMPION,
        "outcome": "keep-champion",
        "reason": answer["reason"],
    }
    assert all(isinstance(v, str) and len(v) <= METADATA_VALUE_LIMIT for v in answer["metadata"].values())


def test_a_first_run_has_no_champion() -> None:
    answer = run(_event(champions=[], metrics=_event()["metrics"][:1]))
    assert (answer["outcome"], answer["status"], answer["champion_auc"]) == ("deploy", "Approved", None)
    assert answer["metadata"]["champion_package"] == "none"
    assert answer["metadata"]["validation_brier"] == "not reported"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"champions": ["not-an-arn"]}, "champions"),
        ({"champions": [CHAMPION, CHAMPION]}, "champions"),
        ({"metrics": [{"MetricName": "validation:auc"}]}, "Value"),
        ({"floor": "high"}, "floor"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_event_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        run(_event(**overrides))
