"""Reading a published run: the `RunReader` port, its S3 and local-folder adapters, and `open_run`.

A run is read one part file at a time, line by line, so a load never holds more
than the line it is applying. Part files are the objects named `part-*` in a data
set's folder (the local engine writes `part-00000.json`, Spark `part-00000-<uuid>-c000.txt`,
optionally gzip-compressed `*.gz`); markers such as `_SUCCESS` are ignored.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from mdm_loader.errors import IncompleteRunError, MalformedLineError
from mdm_loader.run_format import REQUIRED_DATASETS, Manifest, RequiredDataset, RunLocation, run_location

PART_PREFIX = "part-"
Line = TypeVar("Line", bound=BaseModel)


class RunReader(Protocol):
    def read_text(self, key: str) -> str:
        """The whole (small) object at `key`; IncompleteRunError when it does not exist."""
        ...

    def part_keys(self, prefix: str) -> list[str]:
        """The part files under `prefix` (a folder ending in `/`), sorted."""
        ...

    def lines(self, key: str) -> Iterator[str]:
        """The lines of one part file, streamed."""
        ...


def _is_part(key: str) -> bool:
    return key.rsplit("/", 1)[-1].startswith(PART_PREFIX)


class S3RunReader:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def read_text(self, key: str) -> str:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise IncompleteRunError(f"s3://{self._bucket}/{key} does not exist") from None
            raise
        return str(body.read().decode("utf-8"))

    def part_keys(self, prefix: str) -> list[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []) if _is_part(item["Key"]))

    def lines(self, key: str) -> Iterator[str]:
        body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        stream = gzip.GzipFile(fileobj=body) if key.endswith(".gz") else body
        yield from io.TextIOWrapper(stream, encoding="utf-8")


class LocalRunReader:
    """A folder written by `omni mdm dedupe --output DIR`: keys are paths relative to it."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def read_text(self, key: str) -> str:
        path = self._root / key
        if not path.is_file():
            raise IncompleteRunError(f"{path} does not exist")
        return path.read_text(encoding="utf-8")

    def part_keys(self, prefix: str) -> list[str]:
        folder = self._root / prefix
        if not folder.is_dir():
            return []
        return sorted(path.relative_to(self._root).as_posix() for path in folder.iterdir() if _is_part(path.name))

    def lines(self, key: str) -> Iterator[str]:
        opener = gzip.open if key.endswith(".gz") else open
        with opener(self._root / key, "rt", encoding="utf-8") as handle:
            yield from handle


def _problem(error: ValidationError) -> str:
    # Input values are customer data: name the offending fields only.
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "line"
    return f"{where}: {first['msg']}"


@dataclass(frozen=True, slots=True)
class Run:
    """A complete run: its manifest and the part files of each data set it needs."""

    location: RunLocation
    manifest: Manifest
    parts: dict[RequiredDataset, list[str]]
    reader: RunReader

    def records(self, dataset: RequiredDataset, model: type[Line]) -> Iterator[Line]:
        """Every line of `dataset` parsed as `model`; fails at the end if fewer lines than announced were read."""
        count = 0
        for key in self.parts[dataset]:
            for number, line in enumerate(self.reader.lines(key), start=1):
                if not line.strip():
                    continue
                try:
                    record = model.model_validate_json(line)
                except ValidationError as error:
                    raise MalformedLineError(f"{dataset} line {number} of {key}: {_problem(error)}") from None
                count += 1
                yield record
        announced = self.manifest.announced(dataset)
        if announced is not None and count != announced:
            raise IncompleteRunError(
                f"{dataset} of run {self.location.run_id}: read {count} lines, the manifest announces {announced}"
            )


def open_run(reader: RunReader, manifest_key: str) -> Run:
    """Read a run's manifest and find its part files; fails before any write when a data set is missing."""
    location = run_location(manifest_key)
    try:
        manifest = Manifest.model_validate_json(reader.read_text(manifest_key))
    except ValidationError as error:
        raise IncompleteRunError(f"{manifest_key} is not a run manifest: {_problem(error)}") from None
    if manifest.run_id != location.run_id:
        raise IncompleteRunError(f"{manifest_key} describes run {manifest.run_id!r}, not {location.run_id!r}")
    missing = [dataset for dataset in REQUIRED_DATASETS if dataset not in manifest.prefixes]
    if missing:
        raise IncompleteRunError(f"run {location.run_id} has no {', '.join(missing)} in its manifest prefixes")
    parts: dict[RequiredDataset, list[str]] = {}
    for dataset in REQUIRED_DATASETS:
        prefix = location.dataset_prefix(manifest.prefixes[dataset])
        parts[dataset] = reader.part_keys(prefix)
        if not parts[dataset] and manifest.announced(dataset):
            raise IncompleteRunError(f"run {location.run_id}: no part files under {prefix} for {dataset}")
    return Run(location=location, manifest=manifest, parts=parts, reader=reader)
