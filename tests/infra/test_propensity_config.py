"""The propensity settings of champion/challenger and tuning: defaults in code, bad values named."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, PropensityConfig, config_for


def test_the_defaults_promote_on_a_small_margin_and_tune_a_dozen_jobs_three_at_a_time() -> None:
    settings = config_for("dev").environment.propensity
    assert (settings.promotion_margin, settings.tuning_max_jobs, settings.tuning_parallel_jobs) == (0.005, 12, 3)
    assert settings.tuning_minutes == 4 * settings.max_training_minutes
    # unset: manual approval follows the environment (required where data is retained)
    assert settings.require_manual_approval is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tuning_parallel_jobs": 5, "tuning_max_jobs": 4}, "tuning_parallel_jobs exceeds tuning_max_jobs"),
        ({"tuning_max_jobs": 40, "tuning_parallel_jobs": 2, "max_training_minutes": 60}, "at most 300 fit"),
        ({"promotion_margin": -0.1}, "greater than or equal to 0"),
    ],
)
def test_a_tuning_budget_or_margin_that_cannot_work_is_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PropensityConfig.model_validate(values)


def test_a_bad_setting_stops_synthesis_naming_it() -> None:
    from infra.config import read_cdk_json_context

    context = read_cdk_json_context()
    environments = dict(context["omni:environments"])
    dev = dict(environments["dev"])
    dev["propensity"] = {**dev.get("propensity", {}), "tuning_parallel_jobs": 0}
    environments["dev"] = dev
    with pytest.raises(ConfigError, match=r"propensity\.tuning_parallel_jobs"):
        config_for("dev", context={**context, "omni:environments": environments})
