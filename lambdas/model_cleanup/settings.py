"""The clean-up's configuration, read once from its environment and validated (a bad value fails the cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from model_cleanup.constants import ENV_ENDPOINT, ENV_KEEP, ENV_PIPELINE

# SageMaker's name rules for state machines' and endpoints' names as the stacks make them.
_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,79}$"


class CleanupSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    pipeline: str = Field(alias=ENV_PIPELINE, pattern=_NAME)
    endpoint: str = Field(alias=ENV_ENDPOINT, pattern=_NAME)
    # At least the newest run is kept: the pipeline never removes what it has just deployed.
    keep: int = Field(alias=ENV_KEEP, ge=1, le=100)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> CleanupSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))
