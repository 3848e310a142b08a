"""Real event shapes the sandbox feeds to handlers: API Gateway REST proxy, Kinesis, DynamoDB streams, Connect."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from event_processor.redrive_aws import lambda_record

SANDBOX_CALLER = "omni-sandbox"
SANDBOX_ROLE = "arn:aws:iam::123456789012:role/omni-sandbox-event-processor"  # the mapping's invokeIdentityArn


def api_gateway_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    account: str = "123456789012",
    region: str = "eu-west-2",
) -> dict[str, Any]:
    """An API Gateway REST API (v1 proxy integration) event, IAM-authorised as the API's callers are."""
    all_headers = {
        "Accept": "application/json",
        "Host": f"sandbox.execute-api.{region}.amazonaws.com",
        "User-Agent": SANDBOX_CALLER,
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "accountId": account,
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "caller": SANDBOX_CALLER,
                "user": SANDBOX_CALLER,
                "userArn": f"arn:aws:iam::{account}:role/{SANDBOX_CALLER}",
                "accountId": account,
                "sourceIp": "198.51.100.7",
                "userAgent": SANDBOX_CALLER,
            },
            "protocol": "HTTP/1.1",
            "apiId": "sandbox",
            "domainName": all_headers["Host"],
        },
        "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        "isBase64Encoded": False,
    }


def kinesis_event(records: Sequence[Mapping[str, Any]], *, stream_arn: str, shard_id: str) -> dict[str, Any]:
    """The Lambda event of a Kinesis event source mapping, from `get_records` records of the shard `shard_id`."""
    return {
        "Records": [
            lambda_record(record, stream_arn=stream_arn, shard_id=shard_id, invoke_identity_arn=SANDBOX_ROLE)
            for record in records
        ]
    }


def dynamodb_stream_event(records: Sequence[Mapping[str, Any]], *, stream_arn: str, region: str) -> dict[str, Any]:
    """The Lambda event of a DynamoDB stream event source mapping, from `dynamodbstreams.get_records` records."""
    shaped = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        if isinstance(dynamodb.get("ApproximateCreationDateTime"), datetime):
            dynamodb["ApproximateCreationDateTime"] = dynamodb["ApproximateCreationDateTime"].timestamp()
        shaped.append(
            {
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "eventVersion": record.get("eventVersion", "1.1"),
                "eventSource": "aws:dynamodb",
                "awsRegion": record.get("awsRegion", region),
                "dynamodb": dynamodb,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": shaped}


def connect_event(
    *, contact_id: str, phone: str, parameters: Mapping[str, str], attributes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The event a contact flow's Invoke AWS Lambda function block sends."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": dict(attributes or {}),
                "Channel": "VOICE",
                "ContactId": contact_id,
                "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"},
                "InitialContactId": contact_id,
                "InitiationMethod": "INBOUND",
                "InstanceARN": "arn:aws:connect:eu-west-2:123456789012:instance/sandbox",
                "PreviousContactId": contact_id,
                "Queue": None,
                "SystemEndpoint": {"Address": "+442079460000", "Type": "TELEPHONE_NUMBER"},
                "MediaStreams": {},
            },
            "Parameters": dict(parameters),
        },
    }
