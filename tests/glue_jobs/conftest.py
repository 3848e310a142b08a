"""Shared fixtures of the MDM tests: one small synthetic data set matched once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from glue_jobs.dedupe import DedupeResult, dedupe
from glue_jobs.matching_model import MatchSettings
from glue_jobs.synthetic_customers import generate_customers

# Fewer u pairs than production: the fixture is small and tests must take seconds.
FAST_SETTINGS = MatchSettings(u_max_pairs=1e5)


@pytest.fixture(scope="session")
def fast_settings() -> MatchSettings:
    return FAST_SETTINGS


@pytest.fixture(scope="session")
def customers() -> pd.DataFrame:
    return generate_customers(600, seed=11)


@pytest.fixture(scope="session")
def deduped(customers: pd.DataFrame) -> DedupeResult:
    return dedupe(customers.drop(columns="entity_id"), settings=FAST_SETTINGS)
