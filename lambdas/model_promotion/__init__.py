"""Model promotion: whether a retrained propensity model replaces the approved one (champion/challenger).

The decision is made in `model_promotion.decision` (no AWS); the retraining pipeline runs
`model_promotion.handler.lambda_handler` after tuning, with the best training job's metrics.
"""
