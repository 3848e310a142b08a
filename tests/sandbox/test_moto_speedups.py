"""The sandbox's moto speed-ups keep moto's behaviour: all-or-nothing transactions, one partition per query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

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
