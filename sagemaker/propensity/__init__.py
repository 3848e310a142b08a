"""Propensity model: one feature definition shared by training (`train.py`) and serving (`inference.py`).

Imported as `propensity` (the `sagemaker/` folder is a source root, never a
package: it would shadow the SageMaker SDK).
"""
