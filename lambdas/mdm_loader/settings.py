"""The loader's configuration, read once from its environment and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from mdm_loader.constants import ENV_CURATED_BUCKET
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE


class LoaderSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_table: str = Field(alias=ENV_CUSTOMER_TABLE, min_length=3)
    identity_table: str = Field(alias=ENV_IDENTITY_TABLE, min_length=3)
    curated_bucket: str = Field(alias=ENV_CURATED_BUCKET, min_length=3)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LoaderSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))
