"""The pipeline function's configuration, read once from its environment and validated (a bad value fails the
cold start, naming the variable)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from matching_pipeline.constants import (
    ENV_ALERT_TOPIC_ARN,
    ENV_FIRST_POLL_SECONDS,
    ENV_MAX_POLL_SECONDS,
    ENV_OUTPUT_PATH,
    ENV_PUBLICATION_JOB,
    ENV_STATE_MACHINE_ARN,
    ENV_WORKFLOW,
)


class PipelineSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    # Entity Resolution's EntityName rule.
    workflow: str = Field(alias=ENV_WORKFLOW, pattern=r"^[a-zA-Z_0-9-]{1,255}$")
    state_machine_arn: str = Field(alias=ENV_STATE_MACHINE_ARN, pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:")
    publication_job: str = Field(alias=ENV_PUBLICATION_JOB, min_length=1, max_length=255)
    alert_topic_arn: str = Field(alias=ENV_ALERT_TOPIC_ARN, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:")
    output_path: str = Field(alias=ENV_OUTPUT_PATH, pattern=r"^s3://")
    first_poll_seconds: int = Field(alias=ENV_FIRST_POLL_SECONDS, ge=1, le=3600)
    max_poll_seconds: int = Field(alias=ENV_MAX_POLL_SECONDS, ge=1, le=3600)

    @model_validator(mode="after")
    def _backoff_grows(self) -> PipelineSettings:
        if self.max_poll_seconds < self.first_poll_seconds:
            raise ValueError(f"{ENV_MAX_POLL_SECONDS} must be at least {ENV_FIRST_POLL_SECONDS}")
        return self

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PipelineSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))
