"""The rescorer's configuration, read once from its environment and validated."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from eligibility.constants import ENV_PROPENSITY_ENDPOINT, ENV_PROPENSITY_TIMEOUT_MS
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_RESCORE_DEBOUNCE_SECONDS, ENV_RESCORE_TABLE
from rescorer.constants import ENV_RESCORE_DELAY_QUEUE_URL, ENV_RESCORE_PRODUCTS

# The eligibility config's product names (infra.config): each is a key of `live_state.propensity`.
PRODUCT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_PRODUCTS = 10


class RescorerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_table: str = Field(alias=ENV_CUSTOMER_TABLE, min_length=3)
    rescore_table: str = Field(alias=ENV_RESCORE_TABLE, min_length=3)
    # Longer than SQS's 15-minute delay is allowed: the trailing rescore's message is sent again (rescoring.py).
    debounce_seconds: int = Field(alias=ENV_RESCORE_DEBOUNCE_SECONDS, default=300, ge=1, le=86400)
    delay_queue_url: str = Field(alias=ENV_RESCORE_DELAY_QUEUE_URL, pattern=r"^https://\S+$")
    # Empty or unset: no model is deployed yet, every rescore writes the rules score.
    propensity_endpoint: str = Field(alias=ENV_PROPENSITY_ENDPOINT, default="", max_length=63)
    propensity_timeout_ms: int = Field(alias=ENV_PROPENSITY_TIMEOUT_MS, default=800, ge=100, le=5000)
    products: tuple[str, ...] = Field(alias=ENV_RESCORE_PRODUCTS, min_length=1, max_length=MAX_PRODUCTS)

    @field_validator("products", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        products = tuple(part.strip() for part in value.split(",") if part.strip())
        for product in products:
            if not PRODUCT_PATTERN.match(product):
                raise ValueError(f"not a product name: {product!r}")
        if len(set(products)) != len(products):
            raise ValueError("a product is named twice")
        return products

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))

    @property
    def debounce_window(self) -> timedelta:
        return timedelta(seconds=self.debounce_seconds)
