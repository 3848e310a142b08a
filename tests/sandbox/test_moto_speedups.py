"""The sandbox's moto speed-ups keep moto's behaviour: all-or-nothing transactions, one partition per query."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import jsonpath_ng.ext as jsonpath_ext
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from sandbox.moto_speedups import faster_moto

TABLE = "speedups"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws(), faster_moto():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def _item(pk: str, sk: str, value: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": value}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=_item("a", "1", "before"))
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _item("b", "1", "new")}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "after"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "b"}, "sk": {"S": "1"}})
    kept = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]
    assert kept["v"] == {"S": "before"}


def test_a_committed_transaction_applies_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": _item(pk, "1", pk)}} for pk in ("x", "y")]
    )
    assert dynamodb.scan(TableName=TABLE)["Count"] == 2


def test_a_query_reads_its_partition_in_sort_key_order(dynamodb: Any) -> None:
    for pk, sk in (("p", "2"), ("q", "1"), ("p", "1"), ("p", "3")):
        dynamodb.put_item(TableName=TABLE, Item=_item(pk, sk, pk + sk))
    found = dynamodb.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
    )["Items"]
    assert [item["sk"]["S"] for item in found] == ["1", "2", "3"]
    backwards = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ScanIndexForward=False,
        Limit=2,
    )
    assert [item["sk"]["S"] for item in backwards["Items"]] == ["3", "2"]
    assert (
        dynamodb.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}}
        )["Items"]
        == []
    )


def _stream_table(client: Any) -> str:
    client.create_table(
        TableName="streamed",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return "streamed"


def _stream_records(client: Any, table: str) -> list[dict[str, Any]]:
    stream_arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    # botocore sends stream-ARN calls to account endpoints, which moto does not route (as the platform does).
    streams = boto3.client(
        "dynamodbstreams", region_name="eu-west-2", config=Config(account_id_endpoint_mode="disabled")
    )
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def _stream_after_a_cancelled_transaction(patched: bool) -> list[tuple[str, Any, Any]]:
    """Create, then a check-then-put transaction that is cancelled after its put ran; the stream's records."""
    with mock_aws(), faster_moto() if patched else contextlib.nullcontext():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        table = _stream_table(client)
        client.put_item(TableName=table, Item=_item("a", "1", "before"))
        with pytest.raises(ClientError, match="TransactionCanceled"):
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": _item("b", "1", "new")}},
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                            "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"S": "after"}},
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": {"S": "erased"}, "sk": {"S": "1"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        client.put_item(TableName=table, Item=_item("c", "1", "later"))
        assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "b"}, "sk": {"S": "1"}})
        records = _stream_records(client, table)
        return [(r["eventName"], r["dynamodb"].get("NewImage"), r["dynamodb"]["SequenceNumber"]) for r in records]


def test_a_cancelled_transaction_leaves_the_stream_as_unpatched_moto_does() -> None:
    patched = _stream_after_a_cancelled_transaction(patched=True)
    assert patched == _stream_after_a_cancelled_transaction(patched=False)
    assert [(name, image["pk"]["S"]) for name, image, _ in patched] == [("INSERT", "a"), ("INSERT", "c")]


def test_a_committed_transaction_writes_its_stream_records() -> None:
    with mock_aws(), faster_moto():
        client = boto3.client("dynamodb", region_name="eu-west-2")
        table = _stream_table(client)
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": _item(pk, "1", pk)}} for pk in ("x", "y")]
        )
        records = _stream_records(client, table)
        assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]


def _patched_attributes() -> tuple[Any, ...]:
    return (
        DynamoDBBackend.transact_write_items,
        Table.query,
        Table.all_items,
        jsonpath_ext.parse,
        hasattr(Table, "__deepcopy__"),
    )


def test_the_patches_are_undone_when_the_block_ends() -> None:
    original = _patched_attributes()
    with faster_moto():
        assert _patched_attributes() != original
    assert _patched_attributes() == original


def test_the_patches_are_undone_when_the_block_raises() -> None:
    original = _patched_attributes()
    with pytest.raises(RuntimeError, match="boom"), faster_moto():
        raise RuntimeError("boom")
    assert _patched_attributes() == original
