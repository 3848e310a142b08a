"""An asynchronous invocation as Lambda runs it: retries, then the function's dead-letter queue with the reason.

EventBridge hands an event to a Lambda target asynchronously: when the handler
raises, Lambda runs it again up to the function's `MaximumRetryAttempts` (its
`AWS::Lambda::EventInvokeConfig`; 2 without one), then sends the event to the
function's `DeadLetterConfig` queue with the error as message attributes
(`RequestID`, `ErrorCode`, `ErrorMessage`). Both come from the template.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.platform import LocalPlatform

EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class AsyncOutcome:
    answer: Any  # the handler's answer (None when it was given up)
    attempts: int
    error: str | None = None  # the last error, when the event went to the dead-letter queue


def retries(platform: LocalPlatform, handler_path: str) -> int:
    fn = platform.function(handler_path)
    for resource in platform.resources(EVENT_INVOKE_CONFIG):
        if resource.stack == fn.stack and resource.properties.get("FunctionName") == {"Ref": fn.logical_id}:
            return int(resource.properties.get("MaximumRetryAttempts", DEFAULT_RETRIES))
    return DEFAULT_RETRIES


def dead_letter_queue(platform: LocalPlatform, handler_path: str) -> str | None:
    """The URL of the function's dead-letter queue (None: it has none)."""
    fn = platform.function(handler_path)
    target = (
        platform.templates.resource(fn.stack, fn.logical_id).properties.get("DeadLetterConfig", {}).get("TargetArn")
    )
    if target is None:
        return None
    return platform.queue_url_of(str(platform.resolver.resolve(target, fn.stack)))


def invoke_async(platform: LocalPlatform, handler_path: str, event: Any) -> AsyncOutcome:
    allowed = 1 + retries(platform, handler_path)
    error: Exception | None = None
    for attempt in range(1, allowed + 1):
        try:
            return AsyncOutcome(platform.invoke(handler_path, event), attempt)
        except Exception as failure:  # noqa: BLE001 - a function error: Lambda retries, then dead-letters
            error = failure
    message = f"{type(error).__name__}: {error}"
    queue = dead_letter_queue(platform, handler_path)
    if queue is not None:
        platform.client("sqs").send_message(
            QueueUrl=queue,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": str(uuid.uuid4())},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message[:1000]},
            },
        )
    return AsyncOutcome(None, allowed, message)


def dead_letters(platform: LocalPlatform, handler_path: str) -> list[dict[str, Any]]:
    """The events waiting in the function's dead-letter queue, each with its error (left in the queue)."""
    queue = dead_letter_queue(platform, handler_path)
    if queue is None:
        return []
    sqs = platform.client("sqs")
    letters: list[dict[str, Any]] = []
    handles: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = {
                name: value.get("StringValue") for name, value in message.get("MessageAttributes", {}).items()
            }
            letters.append({"event": message["Body"], **attributes})
            handles.append(message["ReceiptHandle"])
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
    return letters
