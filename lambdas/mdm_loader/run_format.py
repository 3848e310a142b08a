"""The published shapes of a matching run, parsed at the edge (pydantic).

The contract is written by `glue_jobs.publication` and `glue_jobs.dedupe.write_run`
(the Glue job writes the same shapes); the Lambda asset does not contain
`glue_jobs`, so the shapes are restated here and a test checks them against a
real run of the local engine. Unknown fields are ignored: the producer may add
fields without breaking the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mdm_loader.errors import NotAManifestError
from omni_domain.models import CustomerId

# The data sets a load needs, in the order they are applied (match_pairs is for data stewards only).
RequiredDataset = Literal["golden_records", "identity_links", "merges"]
REQUIRED_DATASETS: tuple[RequiredDataset, ...] = ("golden_records", "identity_links", "merges")
GOLDEN_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line",
    "city",
    "postcode",
    "country",
    "date_of_birth",
)

_MANIFEST_KEY = re.compile(r"^(?P<root>(?:.+/)?)runs/run_id=(?P<run_id>[^/]+)/manifest\.json$")
_RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"  # glue_jobs.run_layout.new_run_id


class _Published(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Manifest(_Published):
    run_id: str
    prefixes: dict[str, str]
    # Line counts the producer announces; a load that reads fewer lines failed to see part of the run.
    golden_records: int | None = Field(default=None, ge=0)
    identity_links: int | None = Field(default=None, ge=0)
    merges: int | None = Field(default=None, ge=0)

    def announced(self, dataset: RequiredDataset) -> int | None:
        count: int | None = getattr(self, dataset)
        return count


class GoldenValue(_Published):
    value: str | None = None
    source_system: str | None = None
    source_id: str | None = None


class GoldenRecordLine(_Published):
    golden_id: CustomerId
    members: list[str] = []
    updated_at: str = ""
    attributes: dict[str, GoldenValue] = {}

    def value(self, field: str) -> str | None:
        golden = self.attributes.get(field)
        return golden.value if golden else None


class IdentityLinkLine(_Published):
    identifier_type: Literal["source", "email", "phone"]
    identifier: str = Field(min_length=1)
    golden_id: CustomerId


class MergeLine(_Published):
    old_golden_id: CustomerId
    new_golden_id: CustomerId


@dataclass(frozen=True, slots=True)
class RunLocation:
    """Where a run lives: `root` is the MDM prefix the manifest's relative prefixes hang from."""

    root: str
    run_id: str
    run_time: datetime

    @property
    def manifest_key(self) -> str:
        return f"{self.root}runs/run_id={self.run_id}/manifest.json"

    def dataset_prefix(self, relative: str) -> str:
        return f"{self.root}{relative.strip('/')}/"


def run_location(manifest_key: str) -> RunLocation:
    """The run a manifest key names, e.g. `mdm/runs/run_id=20261104T120000Z/manifest.json`."""
    match = _MANIFEST_KEY.match(manifest_key)
    if match is None:
        raise NotAManifestError(
            f"{manifest_key!r} is not a run manifest: expected <mdm prefix>runs/run_id=<run>/manifest.json"
        )
    run_id = match["run_id"]
    try:
        run_time = datetime.strptime(run_id, _RUN_ID_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        # The run id's time stamps every link it publishes: without it a re-run would not be idempotent.
        raise NotAManifestError(f"run id {run_id!r} is not a UTC time stamp like 20261104T120000Z") from None
    return RunLocation(root=match["root"], run_id=run_id, run_time=run_time)
