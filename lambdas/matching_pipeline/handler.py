"""Lambda entry point of the Entity Resolution matching pipeline: one step per invocation, from its state machine.

The event names the step (`claim`, `start`, `poll`) and carries what the previous one returned; the answer is
what the state machine decides on next. An event it cannot act on, or a service that refuses a call, raises: the
state machine retries, then alerts the platform team and fails the run.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from matching_pipeline.constants import MATCHING_PIPELINE_SERVICE
from matching_pipeline.pipeline import MatchingPipeline
from matching_pipeline.settings import PipelineSettings
from omni_domain.wiring import Wiring

logger = Logger(service=MATCHING_PIPELINE_SERVICE)
# Throttled requests are retried by botocore before a step sees them.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def _pipeline() -> MatchingPipeline:
    return MatchingPipeline(
        PipelineSettings.from_environment(),
        entity_resolution=boto3.client("entityresolution", config=_CLIENT_CONFIG),
        step_functions=boto3.client("stepfunctions", config=_CLIENT_CONFIG),
        glue=boto3.client("glue", config=_CLIENT_CONFIG),
        sns=boto3.client("sns", config=_CLIENT_CONFIG),
    )


# One set of clients per execution environment, reused across invocations.
wiring = Wiring(_pipeline)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = wiring.current().handle(event)
    logger.info("pipeline step done", extra={"step": event.get("step"), "outcome": outcome})
    return outcome
