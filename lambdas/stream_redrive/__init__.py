"""Redrive of the batches a stream's event source mapping gave up on, from its on-failure queue.

Shared by `omni state-changes redrive` (the state publisher, a DynamoDB stream) and `omni events redrive`
(the event processor, a Kinesis stream): the on-failure record and the ports (`stream_redrive.ports`), the
page-at-a-time run and its report (`stream_redrive.run`), the SQS queue and the shard read-back
(`stream_redrive.aws`). What differs stays with each function's package: the stream's records in Lambda's
shape, and what applies a batch. No function's handler imports this package, so no asset ships it.
"""
