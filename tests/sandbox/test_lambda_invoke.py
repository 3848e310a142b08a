"""`omni lambda invoke` runs one function's real handler on a sample event against a fresh seeded platform.

Through the command itself (`main([...])`), with the session's dev stage-5
synthesis standing in for the one the command would make.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

import sandbox.platform
from omni_cli.main import main
from sandbox import sample_events
from sandbox.invoke import _powertools_logs_to, known_functions
from sandbox.templates import CloudAssembly

ADA = "gc-0a1b2c3d4e5f60718293"  # a seeded customer: the sample events name her


@pytest.fixture
def dev_platform(dev_templates: CloudAssembly, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's synthesis is the session's (dev, stage 5)."""

    def synthesized(env: str, maturity: int) -> CloudAssembly:
        assert (env, maturity) == ("dev", 5)
        return dev_templates

    monkeypatch.setattr(sandbox.platform, "synthesize_assembly", synthesized)


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


CASES: list[tuple[str, str, Callable[[Any], bool]]] = [
    (
        "profiles",
        "get_customer",
        lambda r: r["statusCode"] == 200 and _body(r)["attributes"]["last_name"] == "Lovelace",
    ),
    (
        "eligibility",
        "post_eligibility",  # the seeded rule set is the active one
        lambda r: r["statusCode"] == 200 and _body(r)["rule_set_version"] == "sandbox-1",
    ),
    ("event-processor", "kinesis_customer_events", lambda r: r == {"batchItemFailures": []}),
    ("connect-lookup", "connect_caller_lookup", lambda r: r["known"] == "true" and r["customer_id"] == ADA),
    ("connect-offers", "connect_offer_check", lambda r: r["eligible"] in ("true", "false") and "reason" in r),
    ("connect-next-action", "connect_next_action", lambda r: isinstance(r, dict) and r),
    ("alert-router", "alarm_static_threshold", lambda r: r["decision"] == "notified" and r["team"] == "platform"),
    ("model-cleanup", "step_functions_cleanup", lambda r: r == {"kept": [], "removed": [], "blocked_by": []}),
    ("rescorer", "delay_queue_batch", lambda r: r == {"batchItemFailures": []}),
    ("state-publisher", "dynamodb_stream_customer_state", lambda r: r == {"batchItemFailures": []}),
]


@pytest.mark.parametrize(("function", "event", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_function_answers_its_sample_event_with_its_log_lines(
    dev_platform: None,
    capsys: pytest.CaptureFixture[str],
    function: str,
    event: str,
    expected: Callable[[Any], bool],
) -> None:
    assert main(["lambda", "invoke", function, "--event", event]) == 0
    out, err = capsys.readouterr()
    response = json.loads(out)
    assert expected(response), response
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    package = function.replace("-", "_")
    assert any("level" in line for line in logged), err  # the handler's Powertools log lines
    assert f"--- {package}.handler.lambda_handler: {len(logged)} log lines ---" in err
    assert "seeded: 3 customers, rule set sandbox-1 (active)" in err


def test_a_function_without_the_seeded_apis_data_still_runs_on_a_file(
    dev_platform: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = sample_events.load("profiles", "get_customer")
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert main(["lambda", "invoke", "profiles", "--event", str(path), "--no-seed"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["statusCode"] == 404  # empty tables: the real service answers
    assert "seeded:" not in err


def test_a_handler_that_raises_exits_1_with_the_error_as_lambda_reports_it(
    dev_platform: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The stored S3 event names a test bucket, not the deployed curated bucket: the loader refuses it.
    assert main(["lambda", "invoke", "mdm-loader", "--event", "s3_manifest_created"]) == 1
    out, err = capsys.readouterr()
    error = json.loads(out)
    assert error["errorType"]
    assert "test-curated" in error["errorMessage"]
    assert error["stackTrace"]
    assert f"the handler raised {error['errorType']}" in err


def test_a_function_not_deployed_at_the_stage_exits_2_naming_the_deployed_ones(
    dev_platform: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lambda", "invoke", "matching-pipeline", "--event", "step_functions_claim"]) == 2
    err = capsys.readouterr().err
    assert "matching-pipeline is not deployed in dev at stage 5" in err
    assert "profiles" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-function", "--event", "x"], r"no function 'no-such-function'; known: alert-router, "),
        (["profiles", "--event", "no_such_sample"], r"neither a JSON file nor a sample event of profiles \(samples: "),
        (["profiles", "--event", "missing/event.json"], r"cannot read the event file missing/event.json"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["lambda", "invoke", *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni lambda: error: ")
    assert re.search(message, err), err


def test_an_event_file_that_is_not_json_names_the_place(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text('{"httpMethod": "GET",\n  "path": }')
    assert main(["lambda", "invoke", "profiles", "--event", str(path)]) == 2
    assert "not JSON: Expecting value at line 2 column 11" in capsys.readouterr().err


def test_an_event_not_of_the_functions_shape_names_the_missing_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = sample_events.load("profiles", "get_customer")
    del event["httpMethod"]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert main(["lambda", "invoke", "profiles", "--event", str(path)]) == 2
    assert "field 'httpMethod' is missing: profiles's events carry " in capsys.readouterr().err
    path.write_text("[1, 2]")
    assert main(["lambda", "invoke", "event-processor", "--event", str(path)]) == 2
    assert "the event must be a JSON object" in capsys.readouterr().err


def test_events_lists_a_functions_sample_events_with_what_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lambda", "events", "profiles"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "profiles:"
    assert "get_customer     API Gateway REST proxy: GET /customers/{id}" in out
    assert main(["lambda", "events", "event_processor"]) == 0  # the package name is accepted
    assert "kinesis_customer_events  Kinesis batch of 1 record" in capsys.readouterr().out
    assert main(["lambda", "events", "nothing"]) == 2


def test_every_sample_event_belongs_to_a_function_and_names_are_unique() -> None:
    assert set(sample_events.functions()) <= set(known_functions())
    names = [name for function in sample_events.functions() for name in sample_events.names(function)]
    assert len(names) == len(set(names))  # the handler tests load samples by name alone


def test_log_lines_are_captured_from_a_logger_bound_to_another_stream_before() -> None:
    elsewhere, capture = io.StringIO(), io.StringIO()
    logger = Logger(service="omni-invoke-test", logger_handler=None, stream=elsewhere)
    with _powertools_logs_to(capture):
        logger.info("during")
    logger.info("after")
    assert '"message":"during"' in capture.getvalue()
    assert '"message":"during"' not in elsewhere.getvalue()
    assert '"message":"after"' in elsewhere.getvalue()
