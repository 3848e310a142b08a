"""The event redrive's AWS adapters: a batch read back from the Kinesis stream in the shape Lambda delivers
it, and the deployed event processor invoked on it. The on-failure queue's SQS adapter and the shard
read-back are `stream_redrive.aws`'s."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from event_processor.redrive import InvokeAnswer
from stream_redrive.aws import ShardReader
from stream_redrive.ports import FailedBatch


def lambda_record(
    raw: Mapping[str, Any], *, stream_arn: str, shard_id: str, invoke_identity_arn: str
) -> dict[str, Any]:
    """A Kinesis GetRecords record (as boto3 returns it) of the shard `shard_id` as a Kinesis event source
    mapping delivers it (the sandbox's stream step builds its events with it too)."""
    arrived = raw.get("ApproximateArrivalTimestamp")
    sequence = raw["SequenceNumber"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": sequence,
            "data": base64.b64encode(raw["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": arrived.timestamp() if isinstance(arrived, datetime) else arrived,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


class KinesisStreamReader(ShardReader):
    """A batch of the customer event stream (`kinesis` client); `invoke_identity_arn` is the function's
    execution role, which Lambda names on every record it delivers."""

    # The stream or its shard deleted. Where the batch's first record is past the retention period and the
    # iterator starts at the oldest record left instead, the read does not start at it and is incomplete.
    GONE_ERROR_CODES = frozenset({"ResourceNotFoundException"})

    def __init__(self, client: Any, *, invoke_identity_arn: str, **options: int) -> None:
        super().__init__(client, **options)
        self._identity = invoke_identity_arn

    def _iterator_request(self, batch: FailedBatch, kind: str, sequence: str) -> dict[str, Any]:
        return {
            "StreamARN": batch.stream_arn,
            "ShardId": batch.shard_id,
            "ShardIteratorType": kind,
            "StartingSequenceNumber": sequence,
        }

    def _records_request(self, batch: FailedBatch) -> dict[str, Any]:
        return {"StreamARN": batch.stream_arn}  # AWS's recommendation, as for the iterator

    def _sequence(self, raw: dict[str, Any]) -> str:
        return str(raw["SequenceNumber"])

    def _lambda_record(self, raw: dict[str, Any], batch: FailedBatch) -> dict[str, Any]:
        return lambda_record(
            raw, stream_arn=batch.stream_arn, shard_id=batch.shard_id, invoke_identity_arn=self._identity
        )


class LambdaInvoker:
    """The deployed event processor (a name, `name:alias` or an ARN), invoked synchronously."""

    def __init__(self, client: Any, function: str) -> None:
        self._client = client
        self._function = function

    def execution_role(self) -> str:
        """The function's execution role: the records' invokeIdentityArn."""
        return str(self._client.get_function_configuration(FunctionName=self._function)["Role"])

    def invoke(self, event: dict[str, Any]) -> InvokeAnswer:
        answer = self._client.invoke(
            FunctionName=self._function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        return InvokeAnswer(answer.get("FunctionError"), answer["Payload"].read())
