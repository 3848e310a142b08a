"""Names of the model promotion shared by its stack and its runtime, defined once.

Plain values only (no boto3, no Powertools), so the CDK app can import this module.
"""

from __future__ import annotations

MODEL_PROMOTION_SERVICE = "model-promotion"
MODEL_PROMOTION_HANDLER = "model_promotion.handler.lambda_handler"

# The metrics train.py prints and the training job's metric definitions capture.
CHALLENGER_AUC = "validation:auc"
CHALLENGER_BRIER = "validation:brier"
CHAMPION_AUC = "champion:auc"

# Where each outcome leads the pipeline.
DEPLOY = "deploy"  # approved: serve it now
AWAIT_APPROVAL = "await-approval"  # better, but a person approves it before it serves
KEEP_CHAMPION = "keep-champion"  # not better than the approved model by the margin
BELOW_FLOOR = "below-floor"  # under the absolute AUC floor (or no AUC reported): the run fails and alerts

# The model package's ModelApprovalStatus for each outcome.
APPROVED = "Approved"
PENDING = "PendingManualApproval"
REJECTED = "Rejected"
