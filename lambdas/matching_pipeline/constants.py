"""Names of the Entity Resolution matching pipeline shared by its stack and its runtime, defined once.

Plain values only (no boto3, no Powertools), so the CDK app can import this module.
"""

from __future__ import annotations

MATCHING_PIPELINE_SERVICE = "matching-pipeline"
MATCHING_PIPELINE_HANDLER = "matching_pipeline.handler.lambda_handler"

# The names the stack gives the pipeline's state machine and the matching workflow: <project>-<env>-<suffix>.
PIPELINE_SUFFIX = "customer-matching"
WORKFLOW_SUFFIX = "customer-matching"

# The steps the state machine asks the function for (the event's `step`).
CLAIM = "claim"
START = "start"
POLL = "poll"

# The matching workflow the pipeline runs.
ENV_WORKFLOW = "MATCHING_WORKFLOW"
# The pipeline's own state machine: a second execution of it never runs beside the first.
ENV_STATE_MACHINE_ARN = "MATCHING_STATE_MACHINE_ARN"
# The Glue job that publishes a succeeded matching job's output (golden records, links, merges, manifest).
ENV_PUBLICATION_JOB = "MATCHING_PUBLICATION_JOB"
# Where a failed job (or records the service could not process) is reported.
ENV_ALERT_TOPIC_ARN = "MATCHING_ALERT_TOPIC_ARN"
# The workflow's output folder (s3://bucket/prefix/): the alert says where the job's error records are.
ENV_OUTPUT_PATH = "MATCHING_OUTPUT_PATH"
# Polling backoff: the first wait, doubled after each look at a job still queued or running, up to the maximum.
ENV_FIRST_POLL_SECONDS = "MATCHING_FIRST_POLL_SECONDS"
ENV_MAX_POLL_SECONDS = "MATCHING_MAX_POLL_SECONDS"
