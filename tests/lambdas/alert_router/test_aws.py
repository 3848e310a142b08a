"""AWS adapters against moto: the suppression table's conditional claims and the SNS publisher."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from alert_router.aws import DynamoDBLedger, SnsPublisher
from alert_router.constants import SUPPRESSION_TTL_ATTRIBUTE
from alert_router.errors import LedgerError, PublishError
from alert_router.messages import Notification
from alert_router.ports import Claim
from tests.lambdas.alert_router.conftest import TABLE, Aws, topic_arn
from tests.lambdas.conftest import REGION

AT = datetime(2026, 11, 4, 12, 5, 4, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


def _claim(event_id: str, at: datetime = AT, alarm: str = "omni-dev-complaints-web-anomaly") -> Claim:
    return Claim(alarm, event_id, at, at + WINDOW, at + WINDOW + timedelta(days=7))


def test_given_a_claim_then_the_item_has_the_key_ttl_and_window(aws: Aws) -> None:
    ledger = DynamoDBLedger(aws.dynamodb, TABLE)
    assert ledger.claim(_claim("e1"))
    item = aws.item("omni-dev-complaints-web-anomaly")
    assert item is not None
    assert item[SUPPRESSION_TTL_ATTRIBUTE] == {"N": str(int((AT + WINDOW + timedelta(days=7)).timestamp()))}
    assert item["suppress_until"] == {"N": str(int((AT + WINDOW).timestamp()))}
    assert item["published"] == {"BOOL": False}


def test_within_the_window_only_an_unpublished_retry_of_the_same_event_may_claim_again(aws: Aws) -> None:
    ledger = DynamoDBLedger(aws.dynamodb, TABLE)
    assert ledger.claim(_claim("e1"))
    assert not ledger.claim(_claim("e2", AT + timedelta(minutes=10)))
    assert ledger.claim(_claim("e1"))  # retry before publishing
    ledger.confirm("omni-dev-complaints-web-anomaly", "e1")
    assert not ledger.claim(_claim("e1"))  # duplicate delivery after publishing
    assert ledger.claim(_claim("e3", AT + WINDOW))  # the window is over


def test_concurrent_claims_from_separate_clients_let_exactly_one_win(aws: Aws) -> None:
    # Given eight invocations, each with its own client, racing for the same alarm
    ledgers = [DynamoDBLedger(boto3.client("dynamodb", region_name=REGION), TABLE) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(lambda n: ledgers[n].claim(_claim(f"e{n}", AT + timedelta(seconds=n))), range(8)))
    assert won.count(True) == 1


def test_a_resolution_is_taken_once_and_only_after_a_published_alert(aws: Aws) -> None:
    ledger = DynamoDBLedger(aws.dynamodb, TABLE)
    alarm, ok_at = "omni-dev-complaints-web-anomaly", AT + timedelta(minutes=15)
    assert ledger.resolve(alarm, "ok1", ok_at) is None  # nothing claimed
    ledger.claim(_claim("e1"))
    assert ledger.resolve(alarm, "ok1", ok_at) is None  # claimed, not published
    ledger.confirm(alarm, "e1")
    assert ledger.resolve(alarm, "ok1", AT - timedelta(minutes=1)) is None  # an OK older than the alert
    assert ledger.resolve(alarm, "ok1", ok_at) == AT.replace(microsecond=0)
    assert ledger.resolve(alarm, "ok2", ok_at) is None  # another OK
    assert ledger.resolve(alarm, "ok1", ok_at) == AT.replace(microsecond=0)  # retry of the same OK
    ledger.confirm_resolution(alarm, "ok1")
    assert ledger.resolve(alarm, "ok1", ok_at) is None


def test_a_missing_table_raises_a_ledger_error_naming_it(aws: Aws) -> None:
    with pytest.raises(LedgerError, match="suppression table missing-table: put_item failed"):
        DynamoDBLedger(aws.dynamodb, "missing-table").claim(_claim("e1"))


def test_the_publisher_sends_subject_and_message_to_the_topic(aws: Aws) -> None:
    message_id = SnsPublisher(aws.sns).publish(topic_arn("care"), Notification("ALARM x", "body\nline"))
    [received] = aws.received("care")
    assert (received.topic, received.subject, received.message) == (topic_arn("care"), "ALARM x", "body\nline")
    assert message_id


def test_publishing_to_a_missing_topic_raises_a_publish_error_naming_it(aws: Aws) -> None:
    with pytest.raises(PublishError, match="alerts-nobody: publish failed"):
        SnsPublisher(aws.sns).publish(topic_arn("nobody"), Notification("s", "m"))
