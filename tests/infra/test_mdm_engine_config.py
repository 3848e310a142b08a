"""mdm.engine and the Entity Resolution settings: validated like every other engine's, one line per mistake."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, config_for, read_cdk_json_context
from tests.infra.full_context import full_context


def _prod_with(**entity_resolution: Any) -> dict[str, Any]:
    context = full_context()
    mdm = context["omni:environments"]["prod"]["mdm"]
    mdm["engine"] = entity_resolution.pop("engine", "entity-resolution")
    mdm["entity_resolution"].update(entity_resolution)
    return context


def test_entity_resolution_is_an_engine_with_its_settings() -> None:
    mdm = config_for("prod", context=_prod_with()).environment.mdm
    assert mdm.engine == "entity-resolution"
    assert (mdm.entity_resolution.matching, mdm.entity_resolution.min_confidence) == ("ml", 0.9)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"engine": "dedupe"}, r"mdm\.engine = 'dedupe': .*'splink', 'findmatches' or 'entity-resolution'"),
        ({"matching": "fuzzy"}, r"mdm\.entity_resolution\.matching = 'fuzzy': .*'ml' or 'rules'"),
        ({"min_confidence": 1.5}, r"mdm\.entity_resolution\.min_confidence = 1\.5: .*less than or equal to 1"),
        ({"first_poll_seconds": 5}, r"mdm\.entity_resolution\.first_poll_seconds = 5: .*greater than or equal to 10"),
        (
            {"first_poll_seconds": 600, "max_poll_seconds": 60},
            r"mdm\.entity_resolution\.max_poll_seconds = 60: must be at least first_poll_seconds \(600\)",
        ),
        ({"timeout_hours": 0}, r"mdm\.entity_resolution\.timeout_hours = 0: "),
    ],
)
def test_a_bad_entity_resolution_setting_fails_with_one_line_naming_it(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=rf"^omni:environments\.prod\.{expected}") as raised:
        config_for("prod", context=_prod_with(**change))
    assert "\n" not in str(raised.value)


def test_choosing_the_engine_alone_takes_the_entity_resolution_defaults() -> None:
    # Given dev as cdk.json gives it (no entity_resolution block), with only the engine changed
    context = read_cdk_json_context()
    context["omni:environments"]["dev"]["mdm"]["engine"] = "entity-resolution"
    # Then the block is the one infra/config.py defines
    settings = config_for("dev", context=context).environment.mdm.entity_resolution
    assert "entity_resolution" not in read_cdk_json_context()["omni:environments"]["dev"]["mdm"]
    assert settings.model_dump() == {
        "matching": "ml",
        "min_confidence": 0.9,
        "first_poll_seconds": 60,
        "max_poll_seconds": 900,
        "timeout_hours": 12,
    }
