"""AWS adapters of the router's ports: the suppression table (DynamoDB) and the team topics (SNS).

Every claim is one conditional request, so two invocations handling the same alarm at
once cannot both win. Times are epoch seconds; `expires_at` is the table's TTL attribute,
and only cleans up: the window itself is the `suppress_until` condition, because TTL
deletes expired items late (hours to days).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from alert_router.constants import SUPPRESSION_PARTITION_KEY, SUPPRESSION_TTL_ATTRIBUTE
from alert_router.errors import LedgerError, PublishError
from alert_router.messages import Notification
from alert_router.ports import Claim

_NAMES = {
    "#alarm": SUPPRESSION_PARTITION_KEY,
    "#event": "event_id",
    "#notified": "notified_at",
    "#until": "suppress_until",
    "#published": "published",
    "#resolved_by": "resolved_by",
    "#resolution_published": "resolution_published",
}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _names(expression: str) -> dict[str, str]:
    return {name: attribute for name, attribute in _NAMES.items() if name in expression}


class DynamoDBLedger:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def _conditional(self, call: str, **request: Any) -> dict[str, Any] | None:
        """The response, or None when the condition failed; other failures raise LedgerError."""
        expressions = " ".join(str(request.get(key, "")) for key in ("ConditionExpression", "UpdateExpression"))
        try:
            response: dict[str, Any] = getattr(self._client, call)(
                TableName=self._table, ExpressionAttributeNames=_names(expressions), **request
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return None
            raise LedgerError(f"suppression table {self._table}: {call} failed ({_error_code(error)})") from error
        return response

    def claim(self, claim: Claim) -> bool:
        written = self._conditional(
            "put_item",
            Item={
                SUPPRESSION_PARTITION_KEY: {"S": claim.alarm_name},
                "event_id": {"S": claim.event_id},
                "notified_at": {"N": str(_epoch(claim.at))},
                "suppress_until": {"N": str(_epoch(claim.suppress_until))},
                SUPPRESSION_TTL_ATTRIBUTE: {"N": str(_epoch(claim.expires_at))},
                "published": {"BOOL": False},
            },
            ConditionExpression=(
                "attribute_not_exists(#alarm) OR #until <= :at OR (#event = :event AND #published = :false)"
            ),
            ExpressionAttributeValues={
                ":at": {"N": str(_epoch(claim.at))},
                ":event": {"S": claim.event_id},
                ":false": {"BOOL": False},
            },
        )
        return written is not None

    def confirm(self, alarm_name: str, event_id: str) -> None:
        self._conditional(
            "update_item",
            Key={SUPPRESSION_PARTITION_KEY: {"S": alarm_name}},
            UpdateExpression="SET #published = :true",
            ConditionExpression="#event = :event",
            ExpressionAttributeValues={":event": {"S": event_id}, ":true": {"BOOL": True}},
        )

    def resolve(self, alarm_name: str, event_id: str, at: datetime) -> datetime | None:
        updated = self._conditional(
            "update_item",
            Key={SUPPRESSION_PARTITION_KEY: {"S": alarm_name}},
            UpdateExpression="SET #resolved_by = :event",
            ConditionExpression=(
                "#published = :true AND #notified <= :at"
                " AND (attribute_not_exists(#resolved_by) OR #resolved_by = :event)"
                " AND attribute_not_exists(#resolution_published)"
            ),
            ExpressionAttributeValues={
                ":event": {"S": event_id},
                ":true": {"BOOL": True},
                ":at": {"N": str(_epoch(at))},
            },
            ReturnValues="ALL_NEW",
        )
        if updated is None:
            return None
        return datetime.fromtimestamp(int(updated["Attributes"]["notified_at"]["N"]), tz=UTC)

    def confirm_resolution(self, alarm_name: str, event_id: str) -> None:
        self._conditional(
            "update_item",
            Key={SUPPRESSION_PARTITION_KEY: {"S": alarm_name}},
            UpdateExpression="SET #resolution_published = :true",
            ConditionExpression="#resolved_by = :event",
            ExpressionAttributeValues={":event": {"S": event_id}, ":true": {"BOOL": True}},
        )


class SnsPublisher:
    def __init__(self, client: Any) -> None:
        self._client = client

    def publish(self, topic_arn: str, notification: Notification) -> str:
        try:
            response = self._client.publish(
                TopicArn=topic_arn, Subject=notification.subject, Message=notification.message
            )
        except ClientError as error:
            raise PublishError(f"topic {topic_arn}: publish failed ({_error_code(error)})") from error
        return str(response["MessageId"])
