"""Builds the eligibility service over DynamoDB and the SageMaker runtime (boto3 only, no Powertools).

The API handler and the contact-centre offer check both decide through this,
in-process: the offer check never calls the API over HTTP.
"""

from __future__ import annotations

from typing import Any

import boto3

from eligibility.decisions import EligibilityService
from eligibility.scoring import NoModel, SageMakerScorer, Scorer, runtime_client
from eligibility.settings import DecisionSettings
from eligibility.storage import DynamoDBDecisionLog, DynamoDBRuleSetStore
from omni_domain.dynamodb_store import DynamoDBCustomerRepository


def scorer_from_settings(settings: DecisionSettings, client: Any | None = None) -> Scorer:
    if not settings.propensity_endpoint:
        return NoModel()
    runtime = client or runtime_client(settings.propensity_timeout_ms)
    return SageMakerScorer(runtime, settings.propensity_endpoint)


def service_from_settings(
    settings: DecisionSettings, *, dynamodb: Any | None = None, sagemaker_runtime: Any | None = None
) -> EligibilityService:
    client = dynamodb or boto3.client("dynamodb")
    return EligibilityService(
        # Reads only: `get` never touches the identity map, so no identity table is given.
        customers=DynamoDBCustomerRepository(client, customer_table=settings.customer_table, identity_table=""),
        rule_sets=DynamoDBRuleSetStore(client, settings.rules_table),
        decisions=DynamoDBDecisionLog(client, settings.decisions_table),
        scorer=scorer_from_settings(settings, sagemaker_runtime),
        retention_days=settings.decision_ttl_days,
    )
