"""Configuration from the environment, and the small HTTP helpers."""

from __future__ import annotations

import pydantic
import pytest

from omni_domain.errors import InvalidRequestError
from profiles.media_types import merge_patch_as_json
from profiles.observability import tracing_enabled
from profiles.preconditions import etag, expected_version
from profiles.settings import ProfileSettings
from tests.lambdas.conftest import TABLES, api_event


def test_settings_from_the_environment() -> None:
    settings = ProfileSettings.from_environment({**TABLES, "DEFAULT_PHONE_REGION": "FR"})
    assert (settings.customer_table, settings.default_phone_region, settings.idempotency_expiry_seconds) == (
        "test-customers",
        "FR",
        3600,
    )


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {**TABLES, "DEFAULT_PHONE_REGION": "XX"},
        {**TABLES, "IDEMPOTENCY_EXPIRY_SECONDS": "5"},
    ],
)
def test_bad_settings_fail_at_start(environ: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError):
        ProfileSettings.from_environment(environ)


@pytest.mark.parametrize(("header", "expected"), [(None, None), ("*", "*"), ('"3"', 3), ("3", 3), (' "12" ', 12)])
def test_if_match(header: str | None, expected: object) -> None:
    assert expected_version(header) == expected


@pytest.mark.parametrize("header", ['W/"3"', "", "abc", '"3", "4"', '"-1"'])
def test_malformed_if_match(header: str) -> None:
    with pytest.raises(InvalidRequestError):
        expected_version(header)


def test_etag_is_a_strong_quoted_version() -> None:
    assert etag(7) == '"7"'
    assert expected_version(etag(7)) == 7


def test_merge_patch_is_read_as_json_and_other_events_are_untouched() -> None:
    patch = api_event("patch_customer", headers={"content-type": "application/merge-patch+json; charset=utf-8"})
    rewritten = merge_patch_as_json(patch)
    assert rewritten["headers"]["content-type"] == "application/json"
    assert rewritten["multiValueHeaders"]["content-type"] == ["application/json"]
    assert patch["headers"]["content-type"].startswith("application/merge-patch+json")  # the input is not modified
    plain = api_event("put_customer")
    assert merge_patch_as_json(plain) is plain


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
    ],
)
def test_tracing_only_in_lambda_and_not_when_disabled(environ: dict[str, str], enabled: bool) -> None:
    assert tracing_enabled(environ) is enabled
