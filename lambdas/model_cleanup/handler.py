"""Lambda entry point of the model clean-up: the retraining pipeline's last step, once the endpoint serves.

The event carries nothing the function reads: what to clean up is its configuration. The answer lists what
was kept and removed (names only). A SageMaker failure raises, so the pipeline's retry, then its failure
path (an alert to the platform team), handle it.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from model_cleanup.aws import SageMakerArtefacts
from model_cleanup.cleanup import plan
from model_cleanup.constants import MODEL_CLEANUP_SERVICE
from model_cleanup.settings import CleanupSettings
from omni_domain.wiring import Wiring

logger = Logger(service=MODEL_CLEANUP_SERVICE)
# Throttled requests are retried by botocore before the clean-up sees them.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def run(settings: CleanupSettings, client: Any) -> dict[str, Any]:
    artefacts = SageMakerArtefacts(client, pipeline=settings.pipeline)
    decided = plan(artefacts.inventory([settings.endpoint]), keep=settings.keep)
    removed = [f"{a.kind}/{a.name}" for a in decided.remove if artefacts.remove(a)]
    outcome = {
        "kept": [f"{a.kind}/{a.name}" for a in decided.keep],
        "removed": removed,
        "blocked_by": list(decided.blocked_by),
    }
    if decided.blocked_by:
        logger.warning("endpoint not settled: nothing removed, the next run cleans up", extra=outcome)
    else:
        logger.info("old models and endpoint configs removed", extra=outcome)
    return outcome


# The settings and the client, built on the first run of an execution environment.
wiring: Wiring[tuple[CleanupSettings, Any]] = Wiring(
    lambda: (CleanupSettings.from_environment(), boto3.client("sagemaker", config=_CLIENT_CONFIG))
)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(*wiring.current())
