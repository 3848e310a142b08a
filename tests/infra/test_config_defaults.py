"""Defaults in code, differences in cdk.json: every environment resolves as before, a new one needs only its basics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.config import ENVIRONMENTS_KEY, ConfigError, EnvironmentConfig, config_for, read_cdk_json_context
from infra.config_sources import DEFAULT_SOURCE, resolve
from infra.stages import Stage

# dev and prod resolved from the cdk.json that still wrote out every setting of both environments.
BEFORE = Path(__file__).parent / "data" / "resolved_config.json"
REQUIRED = ("region", "maturity")


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    else:
        yield path, value


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_setting_resolves_to_what_cdk_json_spelled_out_before(env: str) -> None:
    before = dict(_leaves(json.loads(BEFORE.read_text(encoding="utf-8"))[env]))
    now = dict(_leaves(config_for(env).model_dump(mode="json")))
    # Settings added since keep their own tests; every one that existed resolves to the same value, of the same
    # JSON type (1000 and 1000.0 reach a function's environment as different strings).
    changed = {
        path: (value, now.get(path, "<gone>"))
        for path, value in before.items()
        if json.dumps(now.get(path, "<gone>"), sort_keys=True) != json.dumps(value, sort_keys=True)
    }
    assert changed == {}


def test_the_snapshot_covers_every_environment_of_cdk_json() -> None:
    assert set(json.loads(BEFORE.read_text(encoding="utf-8"))) == set(read_cdk_json_context()[ENVIRONMENTS_KEY])


def _with_environment(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    context = read_cdk_json_context()
    context[ENVIRONMENTS_KEY][name] = settings
    return context


def test_a_new_environment_needs_only_account_region_and_maturity() -> None:
    context = _with_environment("staging", {"account": "123456789012", "region": "us-east-1", "maturity": 2})
    staging = config_for("staging", context=context)
    assert (staging.account, staging.region, staging.maturity) == ("123456789012", "us-east-1", Stage.CONSISTENT)
    assert staging.resource_name("alerts") == "omni-cx-staging-alerts"
    # The defaults are production's values: a new environment is production-like until it says otherwise.
    basics = {"account", "region", "maturity"}
    assert staging.environment.model_dump(exclude=basics) == config_for("prod").environment.model_dump(exclude=basics)
    assert staging.retain_data


def test_a_section_given_in_part_keeps_the_defaults_of_the_rest() -> None:
    context = _with_environment(
        "staging", {"region": "eu-west-1", "maturity": 1, "mdm": {"splink": {"number_of_workers": 4}}}
    )
    mdm = config_for("staging", context=context).environment.mdm
    assert (mdm.splink.number_of_workers, mdm.splink.worker_type, mdm.splink.timeout_minutes) == (4, "G.1X", 60)
    assert mdm.engine == "splink"
    assert mdm.findmatches.number_of_workers == 10


@pytest.mark.parametrize("missing", REQUIRED)
def test_region_and_maturity_have_no_default(missing: str) -> None:
    settings = {"region": "eu-west-1", "maturity": 1}
    del settings[missing]
    with pytest.raises(ConfigError) as raised:
        config_for("staging", context=_with_environment("staging", settings))
    assert str(raised.value) == f"omni:environments.staging.{missing}: missing; add it to the environment in cdk.json"


def test_every_other_setting_has_a_default() -> None:
    assert EnvironmentConfig.model_validate({"region": "eu-west-2", "maturity": 1}).account is None


def test_cdk_json_gives_a_setting_only_where_environments_differ() -> None:
    # A value cdk.json gives is either one of an environment's basics, or differs between environments or from
    # the default: a setting every environment leaves at its default belongs in infra/config.py alone.
    environments = read_cdk_json_context()[ENVIRONMENTS_KEY]
    resolved = {env: resolve(env) for env in environments}
    values = {env: {s.path: s.value for s in r.settings} for env, r in resolved.items()}
    defaults = dict(resolve_defaults())
    redundant = [
        f"{env}: {setting.path}"
        for env, r in resolved.items()
        for setting in r.settings
        if setting.source != DEFAULT_SOURCE
        and setting.path not in ("project", "account", *REQUIRED)
        and setting.value == defaults[setting.path]
        and len({json.dumps(values[other][setting.path]) for other in environments}) == 1
    ]
    assert redundant == []


def resolve_defaults() -> Iterator[tuple[str, Any]]:
    """Each setting's default, from an environment that gives nothing but its basics."""
    context = _with_environment("defaults", {"region": "eu-west-2", "maturity": 1})
    for setting in resolve("defaults", context=context).settings:
        yield setting.path, setting.value


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_default_is_typed_as_the_same_value_written_in_cdk_json(env: str) -> None:
    # A float setting's default 1000 would reach a function's environment as "1000" where cdk.json's gave
    # "1000.0": defaults are validated (and coerced) like any value from cdk.json.
    environment = config_for(env).environment
    as_if_written = EnvironmentConfig.model_validate(environment.model_dump(mode="json"))
    assert repr(environment) == repr(as_if_written)
