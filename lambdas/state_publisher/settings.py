"""The function's configuration, read once from its environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from omni_domain.constants import ENV_EVENT_BUS, ENV_IDEMPOTENCY_EXPIRY_SECONDS, ENV_IDEMPOTENCY_TABLE

DAY = 24 * 3600


class PublisherSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    event_bus: str = Field(alias=ENV_EVENT_BUS, min_length=1)
    idempotency_table: str = Field(alias=ENV_IDEMPOTENCY_TABLE, min_length=3)
    # At least the stream's retention (24 hours): a record redelivered by a retry is still recognised.
    idempotency_expiry_seconds: int = Field(alias=ENV_IDEMPOTENCY_EXPIRY_SECONDS, default=2 * DAY, ge=DAY, le=7 * DAY)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PublisherSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))
