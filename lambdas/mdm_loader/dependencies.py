"""Composition root: the run reader and the store for one curated bucket, built once per execution environment.

Built on first use rather than at import, so a test (or the sandbox) can point
the function at other tables or at fakes with `use`.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config

from mdm_loader.dynamodb_adapter import DynamoDBLoaderStore
from mdm_loader.run_reader import RunReader, S3RunReader
from mdm_loader.settings import LoaderSettings
from mdm_loader.store import LoaderStore
from omni_domain.wiring import Wiring

# Throttled DynamoDB and S3 requests are retried by botocore before the loader sees them.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


@dataclass(frozen=True, slots=True)
class Dependencies:
    settings: LoaderSettings
    reader: RunReader
    store: LoaderStore


def from_settings(settings: LoaderSettings) -> Dependencies:
    return Dependencies(
        settings=settings,
        reader=S3RunReader(boto3.client("s3", config=_CLIENT_CONFIG), settings.curated_bucket),
        store=DynamoDBLoaderStore(
            boto3.client("dynamodb", config=_CLIENT_CONFIG),
            customer_table=settings.customer_table,
            identity_table=settings.identity_table,
        ),
    )


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[Dependencies] = Wiring(lambda: from_settings(LoaderSettings.from_environment()))
current = wiring.current
use = wiring.use
