"""Powertools' DynamoDB-streams batch processor, keeping each customer's changes in order across retries.

Lambda retries a stream batch from the first record it reports failed, so any
record after a failure is delivered again; but a later change of the *same*
customer published now would reach channels before the earlier one that
failed. Once a record of a customer fails, every later record of that customer
in the batch is reported failed without being published, so on the retry the
customer's changes go out in stream order. Other customers' records carry on
(their replay is answered by the idempotency store).

The response is always the partial-failure list (`raise_on_entire_batch_failure`
off): when every record failed it lists them all, which Lambda treats as a
retry of the whole batch, the same as raising, without logging each record's
exception (they may describe customer data).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from state_publisher.decoding import customer_of
from state_publisher.fanout import FanOutReport, StateFanOut


class HeldBackError(Exception):
    """An earlier change of the same customer failed in this batch: this one waits for the retry."""


class CustomerOrderedProcessor(BatchProcessor):
    def __init__(self) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        self.failed_customers: set[str] = set()
        self.held_back = 0
        self.failure_reasons: dict[str, int] = {}

    def _prepare(self) -> None:
        super()._prepare()
        self.failed_customers = set()
        self.held_back = 0
        self.failure_reasons = {}

    def _process_record(self, record: dict[str, Any]) -> Any:
        customer = customer_of(record)
        if customer is not None and customer in self.failed_customers:
            self.held_back += 1
            error = HeldBackError("an earlier change of this customer failed")
            return self.failure_handler(DynamoDBRecord(record), (HeldBackError, error, None))
        outcome = super()._process_record(record)
        if outcome[0] == "fail":
            if customer is not None:
                self.failed_customers.add(customer)
            reason = self.exceptions[-1][0].__name__ if self.exceptions[-1][0] else "unknown"
            self.failure_reasons[reason] = self.failure_reasons.get(reason, 0) + 1
        return outcome

    def failed_count(self) -> int:
        return len(self.fail_messages)


def publish_batch(
    fanout: StateFanOut, event: dict[str, Any], context: LambdaContext
) -> tuple[PartialItemFailureResponse, FanOutReport, CustomerOrderedProcessor]:
    """One stream batch through the fan-out, in customer order: the partial-failure response, the fan-out's
    counts and the processor (its failures). `context` bounds the idempotency claims (the function's own, or the
    redrive's stand-in)."""
    report = fanout.start_batch(context)
    processor = CustomerOrderedProcessor()
    response = process_partial_response(event=event, record_handler=fanout.handle, processor=processor, context=context)
    return response, report, processor
