"""The fault spec and the injector's botocore hooks: the errors have AWS's shapes, and only handlers see them."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from omni_cli.main import main
from sandbox.fault_report import fault_lines
from sandbox.faults import DEFAULT_SPEC, KINDS, PROCESSOR, FaultInjector, FaultSpec, FaultSpecError

REGION = "eu-west-2"
TABLE = "faults-test"


class _Platform:
    """The one seam the injector needs from the platform: wrappers around every invocation."""

    def __init__(self) -> None:
        self.invocation_wrappers: list[Callable[[str, Callable[[], Any]], Any]] = []

    def invoke(self, handler_path: str, run: Callable[[], Any]) -> Any:
        call: Callable[[], Any] = run
        for wrapper in reversed(self.invocation_wrappers):
            call = functools.partial(wrapper, handler_path, call)
        return call()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield
        boto3.DEFAULT_SESSION = None


def _installed(spec: str) -> tuple[FaultInjector, _Platform]:
    injector, platform = FaultInjector(FaultSpec.parse(spec)), _Platform()
    injector.install(platform)
    return injector, platform


def test_the_default_spec_names_every_kind_and_the_makefile_runs_it() -> None:
    spec = FaultSpec.parse(DEFAULT_SPEC)
    assert set(spec.rates) == set(KINDS)
    assert spec.seed == 7
    # A few percent, but for the kinds with a handful of chances per run (see DEFAULT_SPEC)
    few_chances = {"s3-read-error", "handler-crash", "kinesis-redelivery"}
    assert all(0 < rate <= 0.05 for kind, rate in spec.rates.items() if kind not in few_chances)
    assert all(0 < spec.rates[kind] <= 0.25 for kind in few_chances)
    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^FAULTS \?= (.+)$", makefile, re.MULTILINE).group(1) == DEFAULT_SPEC  # type: ignore[union-attr]
    assert str(FaultSpec.parse(str(spec))) == str(spec)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("disk-full=0.1", "disk-full: unknown fault kind"),
        ("handler-crash=1.5", "handler-crash: rate 1.5 is outside [0, 1]"),
        ("handler-crash=-0.1", "handler-crash: rate -0.1 is outside [0, 1]"),
        ("handler-crash=nan", "handler-crash: rate nan is outside [0, 1]"),
        ("handler-crash=often", "handler-crash: rate 'often' is not a number"),
        ("handler-crash", "'handler-crash': expected KIND=RATE"),
        ("handler-crash=0.1,seed=x", "seed: 'x' is not a whole number"),
        ("handler-crash=0.1,handler-crash=0.2", "handler-crash: named twice"),
        ("seed=3", "no fault kind named"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(text: str, names: str) -> None:
    with pytest.raises(FaultSpecError, match=re.escape(names)):
        FaultSpec.parse(text)


def test_the_cli_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "run", "--faults", "kinesis-redelivery=2,seed=1"]) == 2
    assert "--faults: kinesis-redelivery: rate 2 is outside [0, 1]" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_a_throttle_has_dynamodbs_shape_and_the_sdk_retry_absorbs_it() -> None:
    injector, platform = _installed("dynamodb-throttle=0.5,seed=3")
    client = boto3.client("dynamodb")
    for n in range(20):
        platform.invoke(PROCESSOR, functools.partial(client.put_item, TableName=TABLE, Item={"pk": {"S": str(n)}}))
    assert injector.injected["dynamodb-throttle"] > 0
    assert injector.absorbed["dynamodb-throttle"] == {"retry (SDK)": injector.injected["dynamodb-throttle"]}
    assert len(boto3.client("dynamodb").scan(TableName=TABLE)["Items"]) == 20  # every write landed

    _, platform = _installed("dynamodb-throttle=1,seed=3")  # hooks the clients created from now on
    no_retries = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as raised:
        platform.invoke(PROCESSOR, lambda: no_retries.get_item(TableName=TABLE, Key={"pk": {"S": "0"}}))
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as raised:
        platform.invoke(
            PROCESSOR,
            lambda: no_retries.transact_write_items(
                TransactItems=[{"Put": {"TableName": TABLE, "Item": {"pk": {"S": "t"}}}}]
            ),
        )
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"


@pytest.mark.usefixtures("aws")
def test_only_handlers_see_faults() -> None:
    _installed("dynamodb-throttle=1,seed=3")
    sandbox_own = boto3.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    assert sandbox_own.get_item(TableName=TABLE, Key={"pk": {"S": "0"}}).get("Item") is None


@pytest.mark.usefixtures("aws")
def test_a_partial_put_answers_failed_entries_in_place_and_delivers_the_others() -> None:
    injector, platform = _installed("eventbridge-partial=0.5,seed=11")
    events = boto3.client("events")
    entries = [
        {"Source": "omni.test", "DetailType": "T", "Detail": json.dumps({"trigger_id": f"t-{n}"})} for n in range(10)
    ]
    answer = platform.invoke(PROCESSOR, lambda: events.put_events(Entries=entries))
    failed = [n for n, entry in enumerate(answer["Entries"]) if "ErrorCode" in entry]
    assert len(answer["Entries"]) == 10
    assert 0 < answer["FailedEntryCount"] == len(failed) < 10
    assert all(answer["Entries"][n]["ErrorCode"] == "InternalFailure" for n in failed)
    assert all("EventId" in entry for n, entry in enumerate(answer["Entries"]) if n not in failed)
    # Put again, outside any invocation's faults: the publisher's retry absorbed them.
    injector.spec.rates["eventbridge-partial"] = 0.0
    platform.invoke(PROCESSOR, lambda: events.put_events(Entries=[entries[n] for n in failed]))
    injector.finish()
    assert injector.absorbed["eventbridge-partial"] == {"retry (Lambda)": len(failed)}


@pytest.mark.usefixtures("aws")
def test_the_endpoint_fails_with_a_model_error_or_a_read_timeout() -> None:
    def call() -> Any:  # a client per call, as the handler's wiring builds one after the hooks are installed
        runtime = boto3.client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))
        return runtime.invoke_endpoint(EndpointName="e", Body=b"{}", ContentType="application/json")

    _, platform = _installed("sagemaker-error=1,seed=1")
    with pytest.raises(ClientError) as raised:
        platform.invoke("eligibility.handler.lambda_handler", call)
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    boto3.setup_default_session(region_name=REGION)  # a fresh session: only the next injector's hooks
    _, platform = _installed("sagemaker-timeout=1,seed=1")
    with pytest.raises(ReadTimeoutError):
        platform.invoke("eligibility.handler.lambda_handler", call)


@pytest.mark.usefixtures("aws")
def test_a_throttled_request_never_reaches_the_table() -> None:
    """DynamoDB refused it: a conditional write retried after a throttle must not meet its own first attempt."""
    injector, platform = _installed("dynamodb-throttle=0.3,seed=1")
    client = boto3.client("dynamodb")
    for n in range(60):
        platform.invoke(
            PROCESSOR,
            functools.partial(
                client.put_item,
                TableName=TABLE,
                Item={"pk": {"S": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            ),
        )  # a ConditionalCheckFailedException here: the throttled attempt had written
    assert injector.injected["dynamodb-throttle"] > 10


def test_the_report_names_the_kinds_that_met_no_fault() -> None:
    # Given a spec of two kinds, of which only the redelivery met a fault
    faults = FaultInjector(FaultSpec.parse("kinesis-redelivery=0.5,handler-crash=0.5,seed=1"))
    faults.redelivered(applied_again=0, records=3)
    # Then the report says the crash was never exercised, and only the crash
    lines = fault_lines(faults)
    assert "  kinesis-redelivery: 1 injected of 0 chances at 0.5 -> idempotency 1" in lines
    assert lines[-1] == "  not exercised (no fault injected; raise the rate or change the seed): handler-crash"
