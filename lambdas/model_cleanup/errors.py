"""Why a clean-up fails: SageMaker refused a call (permissions, throttling after the SDK's retries).

Messages name the call, the resource and SageMaker's error code; a failure fails the pipeline's
clean-up step, which retries it and then alerts the platform team.
"""

from __future__ import annotations


class CleanupError(Exception):
    """SageMaker could not be read or an artefact could not be removed."""
