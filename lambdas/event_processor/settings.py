"""The function's configuration, read once from its environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from event_processor.policy import Policy
from omni_domain.constants import (
    ENV_CHANNEL_SWITCH_MINUTES,
    ENV_CUSTOMER_TABLE,
    ENV_DEAD_LETTER_QUEUE_URL,
    ENV_DEDUP_HOURS,
    ENV_EVENT_BUS,
    ENV_FUTURE_TOLERANCE_MINUTES,
    ENV_IDENTITY_TABLE,
    ENV_SPEND_CURRENCY,
    ENV_SPEND_THRESHOLD,
)


class ProcessorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_table: str = Field(alias=ENV_CUSTOMER_TABLE, min_length=3)
    identity_table: str = Field(alias=ENV_IDENTITY_TABLE, min_length=3)
    dead_letter_queue_url: str = Field(alias=ENV_DEAD_LETTER_QUEUE_URL, pattern=r"^https://")
    event_bus: str = Field(alias=ENV_EVENT_BUS, min_length=1)
    spend_threshold: Decimal = Field(alias=ENV_SPEND_THRESHOLD, default=Decimal(500), gt=0)
    spend_currency: str = Field(alias=ENV_SPEND_CURRENCY, default="GBP", pattern=r"^[A-Z]{3}$")
    # Longer than the stream's retention plus the event source mapping's retries: a redelivered record is known.
    dedup_hours: int = Field(alias=ENV_DEDUP_HOURS, default=72, ge=24, le=24 * 14)
    channel_switch_minutes: int = Field(alias=ENV_CHANNEL_SWITCH_MINUTES, default=30, ge=1, le=24 * 60)
    # An event dated further than this after it reached the stream is dead-lettered (see check_not_future).
    future_tolerance_minutes: int = Field(alias=ENV_FUTURE_TOLERANCE_MINUTES, default=5, ge=0, le=60)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ProcessorSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))

    def policy(self) -> Policy:
        return Policy(
            spend_threshold=self.spend_threshold,
            spend_currency=self.spend_currency,
            dedup_hours=self.dedup_hours,
            switch_window=timedelta(minutes=self.channel_switch_minutes),
            future_tolerance=timedelta(minutes=self.future_tolerance_minutes),
        )
