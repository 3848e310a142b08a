"""SageMaker script-mode entry point for serving (`SAGEMAKER_PROGRAM`).

The inference toolkit imports this module from the source bundle's root and looks
up the four handler functions on it; they live in `propensity.inference`.
"""

from propensity.inference import input_fn, model_fn, output_fn, predict_fn

__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]
