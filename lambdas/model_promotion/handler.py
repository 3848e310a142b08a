"""Lambda entry point of the model promotion: the retraining pipeline's decision after tuning.

The event (built by the pipeline, validated here) carries the best training job's metrics, the
champion's package ARN (none on a first run) and the policy from config. The answer is the
decision and the model package metadata recording it. A bad event raises, so the pipeline's
failure path alerts the platform team with the field at fault.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from model_promotion.constants import MODEL_PROMOTION_SERVICE
from model_promotion.decision import Decision, Policy, decide

logger = Logger(service=MODEL_PROMOTION_SERVICE)
# SageMaker's limit on a model package's custom metadata values.
METADATA_VALUE_LIMIT = 256


class MetricValue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    MetricName: str
    Value: float


class PromotionEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics: list[MetricValue]
    # The approved model package the challenger was compared with: none on a first run.
    champions: list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/")]] = (
        Field(default_factory=list, max_length=1)
    )
    training_job: str = Field(min_length=1, max_length=63)
    floor: float
    margin: float
    manual_approval: bool


def metadata(decision: Decision, *, champion: str | None, training_job: str) -> dict[str, str]:
    """The model package's CustomerMetadataProperties: what was compared and why it was decided so."""
    values = {
        "training_job": training_job,
        "validation_auc": _number(decision.challenger_auc),
        "validation_brier": _number(decision.challenger_brier),
        "champion_auc": _number(decision.champion_auc),
        "champion_package": champion or "none",
        "outcome": decision.outcome,
        "reason": decision.reason,
    }
    return {key: value[:METADATA_VALUE_LIMIT] for key, value in values.items()}


def _number(value: float | None) -> str:
    return "not reported" if value is None else f"{value:.6f}"


def run(event: dict[str, Any]) -> dict[str, Any]:
    request = PromotionEvent.model_validate(event)
    champion = request.champions[0] if request.champions else None
    policy = Policy(floor=request.floor, margin=request.margin, manual_approval=request.manual_approval)
    decision = decide([item.model_dump() for item in request.metrics], champion=champion, policy=policy)
    answer = {
        "outcome": decision.outcome,
        "status": decision.status,
        "reason": decision.reason,
        "challenger_auc": decision.challenger_auc,
        "champion_auc": decision.champion_auc,
        "metadata": metadata(decision, champion=champion, training_job=request.training_job),
    }
    logger.info("promotion decided", extra={k: v for k, v in answer.items() if k != "metadata"})
    return answer


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(event)
