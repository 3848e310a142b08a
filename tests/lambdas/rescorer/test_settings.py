"""The function's environment: what the stack must set, the defaults, and what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from eligibility.constants import ENV_PROPENSITY_ENDPOINT, ENV_PROPENSITY_TIMEOUT_MS
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_RESCORE_DEBOUNCE_SECONDS, ENV_RESCORE_TABLE
from rescorer.aws import NoEndpoint, SageMakerPropensityScorer
from rescorer.composition import scorer_from_settings
from rescorer.constants import ENV_RESCORE_DELAY_QUEUE_URL, ENV_RESCORE_PRODUCTS
from rescorer.settings import RescorerSettings

REQUIRED = {
    ENV_CUSTOMER_TABLE: "prod-customers",
    ENV_RESCORE_TABLE: "prod-rescore-debounce",
    ENV_RESCORE_PRODUCTS: "retention-offer",
    ENV_RESCORE_DELAY_QUEUE_URL: "https://sqs.eu-west-2.amazonaws.com/123456789012/prod-rescore-delays",
}


def test_given_the_required_variables_then_the_defaults_fill_the_rest() -> None:
    settings = RescorerSettings.from_environment(REQUIRED)
    assert settings.products == ("retention-offer",)
    assert settings.delay_queue_url == REQUIRED[ENV_RESCORE_DELAY_QUEUE_URL]
    assert (settings.debounce_window, settings.propensity_endpoint, settings.propensity_timeout_ms) == (
        timedelta(seconds=300),
        "",
        800,
    )
    assert isinstance(scorer_from_settings(settings), NoEndpoint)


def test_given_every_variable_then_each_is_read() -> None:
    settings = RescorerSettings.from_environment(
        {
            **REQUIRED,
            ENV_RESCORE_DEBOUNCE_SECONDS: "60",
            ENV_PROPENSITY_ENDPOINT: "omni-propensity",
            ENV_PROPENSITY_TIMEOUT_MS: "400",
            ENV_RESCORE_PRODUCTS: " retention-offer, broadband ",
        }
    )
    assert settings.products == ("retention-offer", "broadband")
    assert (settings.debounce_seconds, settings.propensity_timeout_ms) == (60, 400)
    assert isinstance(scorer_from_settings(settings, client=object()), SageMakerPropensityScorer)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (ENV_RESCORE_PRODUCTS, ""),
        (ENV_RESCORE_PRODUCTS, "Retention Offer"),
        (ENV_RESCORE_PRODUCTS, "broadband,broadband"),
        (ENV_RESCORE_PRODUCTS, ",".join(f"p{n}" for n in range(11))),
        (ENV_RESCORE_DEBOUNCE_SECONDS, "0"),
        (ENV_RESCORE_DEBOUNCE_SECONDS, "86401"),
        (ENV_PROPENSITY_TIMEOUT_MS, "50"),
        (ENV_RESCORE_TABLE, ""),
        (ENV_RESCORE_DELAY_QUEUE_URL, ""),
        (ENV_RESCORE_DELAY_QUEUE_URL, "prod-rescore-delays"),
    ],
)
def test_a_bad_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        RescorerSettings.from_environment({**REQUIRED, name: value})


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_is_refused(missing: str) -> None:
    with pytest.raises(ValidationError):
        RescorerSettings.from_environment({name: value for name, value in REQUIRED.items() if name != missing})
