"""Model clean-up: removes the propensity models and endpoint configs the retraining pipeline made and no longer needs.

What is kept and removed is decided in `model_cleanup.cleanup` (no AWS); the pipeline's last step runs
`model_cleanup.handler.lambda_handler`, and `omni propensity cleanup` runs the same code from a laptop.
"""
