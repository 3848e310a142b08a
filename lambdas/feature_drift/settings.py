"""The drift job's configuration, read once from the environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from eligibility.constants import ENV_DECISIONS_TABLE, ENV_PROPENSITY_ENDPOINT
from feature_drift.constants import ENV_MAX_ROWS, ENV_MIN_ROWS, ENV_THRESHOLD, ENV_WINDOW_DAYS


class DriftSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    decisions_table: str = Field(alias=ENV_DECISIONS_TABLE, min_length=3)
    endpoint_name: str = Field(alias=ENV_PROPENSITY_ENDPOINT, min_length=1, max_length=63)
    threshold: float = Field(alias=ENV_THRESHOLD, default=0.2, gt=0, le=10)
    window_days: int = Field(alias=ENV_WINDOW_DAYS, default=7, ge=1, le=90)
    # Fewer live values than this for a feature: no PSI for it (too few to tell a shift from noise).
    min_rows: int = Field(alias=ENV_MIN_ROWS, default=200, ge=10)
    max_rows: int = Field(alias=ENV_MAX_ROWS, default=50_000, ge=100, le=1_000_000)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))
