"""The function's configuration: defaults, bounds, and an empty endpoint meaning no model."""

from __future__ import annotations

import pydantic
import pytest

from eligibility.composition import scorer_from_settings
from eligibility.scoring import NoModel, SageMakerScorer
from eligibility.settings import ApiSettings

REQUIRED = {
    "CUSTOMER_TABLE_NAME": "customers",
    "RULES_TABLE_NAME": "rules",
    "DECISIONS_TABLE_NAME": "decisions",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
}


def test_defaults() -> None:
    settings = ApiSettings.from_environment(REQUIRED)
    assert (settings.decision_ttl_days, settings.propensity_timeout_ms, settings.propensity_endpoint) == (90, 800, "")
    assert isinstance(scorer_from_settings(settings), NoModel)


def test_an_endpoint_name_gives_the_sagemaker_scorer() -> None:
    settings = ApiSettings.from_environment({**REQUIRED, "PROPENSITY_ENDPOINT_NAME": "omni-propensity"})
    assert isinstance(scorer_from_settings(settings, client=object()), SageMakerScorer)


@pytest.mark.parametrize(
    ("name", "value"), [("DECISION_TTL_DAYS", "0"), ("PROPENSITY_TIMEOUT_MS", "10000"), ("RULES_TABLE_NAME", "")]
)
def test_out_of_range_values_fail_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=name):
        ApiSettings.from_environment({**REQUIRED, name: value})
