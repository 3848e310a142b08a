"""Builds the rescorer over DynamoDB, SQS and the SageMaker runtime (boto3 only, no Powertools)."""

from __future__ import annotations

from typing import Any

import boto3

from eligibility.scoring import runtime_client
from omni_domain.dynamodb_store import DynamoDBCustomerRepository
from rescorer.aws import (
    DynamoDBDebouncer,
    DynamoDBPropensityWriter,
    NoEndpoint,
    SageMakerPropensityScorer,
    SqsDelayQueue,
)
from rescorer.ports import PropensityScorer
from rescorer.rescoring import Rescorer
from rescorer.settings import RescorerSettings


def scorer_from_settings(settings: RescorerSettings, client: Any | None = None) -> PropensityScorer:
    if not settings.propensity_endpoint:
        return NoEndpoint()
    runtime = client or runtime_client(settings.propensity_timeout_ms)
    return SageMakerPropensityScorer(runtime, settings.propensity_endpoint)


def rescorer_from_settings(
    settings: RescorerSettings,
    *,
    dynamodb: Any | None = None,
    sagemaker_runtime: Any | None = None,
    sqs: Any | None = None,
) -> Rescorer:
    client = dynamodb or boto3.client("dynamodb")
    return Rescorer(
        # Reads only: `get` never touches the identity map, so no identity table is given.
        customers=DynamoDBCustomerRepository(client, customer_table=settings.customer_table, identity_table=""),
        debouncer=DynamoDBDebouncer(client, settings.rescore_table),
        scorer=scorer_from_settings(settings, sagemaker_runtime),
        writer=DynamoDBPropensityWriter(client, settings.customer_table),
        products=settings.products,
        debounce_window=settings.debounce_window,
        delays=SqsDelayQueue(sqs or boto3.client("sqs"), settings.delay_queue_url),
    )
