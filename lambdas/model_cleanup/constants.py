"""Names of the model clean-up shared by its stack, its runtime and `omni propensity cleanup`, defined once.

Plain values only (no boto3, no Powertools), so the CDK app can import this module.
"""

from __future__ import annotations

MODEL_CLEANUP_SERVICE = "model-cleanup"
MODEL_CLEANUP_HANDLER = "model_cleanup.handler.lambda_handler"

# The names the stack gives the pipeline and its endpoint: <project>-<env>-<suffix>.
PIPELINE_SUFFIX = "propensity-retraining"
ENDPOINT_SUFFIX = "propensity"

# Every model and endpoint config of one pipeline run is named ARTEFACT_PREFIX + the execution's name.
ARTEFACT_PREFIX = "propensity-"
# The tag the pipeline puts on what it creates; its value is the state machine's name, so the pipelines
# of two environments sharing an account never count (or delete) each other's artefacts.
PIPELINE_TAG = "omni:pipeline"

# The state machine's name: only artefacts tagged with it are considered.
ENV_PIPELINE = "MODEL_CLEANUP_PIPELINE"
# The endpoint the pipeline serves: whatever it uses is never removed.
ENV_ENDPOINT = "MODEL_CLEANUP_ENDPOINT"
# How many of the newest runs keep their model and endpoint config (propensity.keep_models).
ENV_KEEP = "MODEL_CLEANUP_KEEP"
