"""The function's configuration, read once from its environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from omni_domain.constants import (
    ENV_CUSTOMER_TABLE,
    ENV_DEFAULT_PHONE_REGION,
    ENV_IDEMPOTENCY_EXPIRY_SECONDS,
    ENV_IDEMPOTENCY_TABLE,
    ENV_IDENTITY_TABLE,
)
from omni_domain.identifiers import CALLING_CODES, DEFAULT_REGION


class ProfileSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_table: str = Field(alias=ENV_CUSTOMER_TABLE, min_length=3)
    identity_table: str = Field(alias=ENV_IDENTITY_TABLE, min_length=3)
    idempotency_table: str = Field(alias=ENV_IDEMPOTENCY_TABLE, min_length=3)
    default_phone_region: str = Field(
        alias=ENV_DEFAULT_PHONE_REGION, default=DEFAULT_REGION, pattern="^(" + "|".join(CALLING_CODES) + ")$"
    )
    # How long a retried write with the same Idempotency-Key gets the first answer back.
    idempotency_expiry_seconds: int = Field(alias=ENV_IDEMPOTENCY_EXPIRY_SECONDS, default=3600, ge=60, le=86400)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProfileSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))
