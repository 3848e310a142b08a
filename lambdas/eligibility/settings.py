"""Configuration read once from the environment and validated: what the decision needs, and what the API adds."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from eligibility.constants import (
    ENV_DECISION_TTL_DAYS,
    ENV_DECISIONS_TABLE,
    ENV_PROPENSITY_ENDPOINT,
    ENV_PROPENSITY_TIMEOUT_MS,
    ENV_RULES_TABLE,
)
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDEMPOTENCY_EXPIRY_SECONDS, ENV_IDEMPOTENCY_TABLE


class DecisionSettings(BaseModel):
    """Everything a decision needs, for the API and for the contact-centre offer check alike."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_table: str = Field(alias=ENV_CUSTOMER_TABLE, min_length=3)
    rules_table: str = Field(alias=ENV_RULES_TABLE, min_length=3)
    decisions_table: str = Field(alias=ENV_DECISIONS_TABLE, min_length=3)
    decision_ttl_days: int = Field(alias=ENV_DECISION_TTL_DAYS, default=90, ge=1, le=3650)
    propensity_endpoint: str = Field(alias=ENV_PROPENSITY_ENDPOINT, default="", max_length=63)
    propensity_timeout_ms: int = Field(alias=ENV_PROPENSITY_TIMEOUT_MS, default=800, ge=100, le=5000)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class ApiSettings(DecisionSettings):
    idempotency_table: str = Field(alias=ENV_IDEMPOTENCY_TABLE, min_length=3)
    # How long a retried decision with the same Idempotency-Key gets the first answer back.
    idempotency_expiry_seconds: int = Field(alias=ENV_IDEMPOTENCY_EXPIRY_SECONDS, default=3600, ge=60, le=86400)
