"""Names the eligibility stack (CDK) and the drift job share, defined once (plain strings only)."""

from __future__ import annotations

FEATURE_DRIFT_SERVICE = "feature-drift"
FEATURE_DRIFT_HANDLER = "feature_drift.handler.lambda_handler"

# Environment variables (besides eligibility's DECISIONS_TABLE_NAME and PROPENSITY_ENDPOINT_NAME).
ENV_THRESHOLD = "DRIFT_THRESHOLD"
ENV_WINDOW_DAYS = "DRIFT_WINDOW_DAYS"
ENV_MIN_ROWS = "DRIFT_MIN_ROWS"
ENV_MAX_ROWS = "DRIFT_MAX_ROWS"

# Metrics, in the platform's namespace (POWERTOOLS_METRICS_NAMESPACE) with the service dimension.
METRIC_FEATURE = "FeatureDrift"  # PSI of one input, dimension FEATURE_DIMENSION
FEATURE_DIMENSION = "Feature"
METRIC_MAX = "FeatureDriftMax"  # the largest PSI of the run: the alarm watches this one
METRIC_ROWS = "FeatureDriftRows"  # live decisions read

# What training packs into model.tar.gz beside the model.
BASELINE_FILE = "feature_baseline.json"
MAX_ARTEFACT_BYTES = 256 * 1024 * 1024
