"""Glue Python shell job: prepare the propensity model's training data from the lake.

Reads the labelled training table that lands under `--source_path` (CSV with a
header, any of `,` `;` `|` tab as delimiter), drops the columns that leak the
outcome (`--drop`, e.g. the call `duration`), checks that the target column is
there and binary, and writes `train/data.csv` and `validation/data.csv` under
`--output_path` (comma-separated, header kept: the training script encodes the
columns by name with the feature definition saved alongside the model).

The split is deterministic: a row goes to validation when a hash of its content
falls in the `--validation_share` of the hash space, so re-running the same data
gives the same split and the AUC gate compares like with like.

Runs on Glue's Python shell (boto3 and the standard library only).
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

REQUIRED_ARGUMENTS = ["source_path", "output_path", "target"]
OPTIONAL_ARGUMENTS = ["drop", "validation_share", "required_columns"]
DELIMITERS = (",", ";", "|", "\t")
POSITIVE = frozenset({"1", "yes", "true", "y"})
NEGATIVE = frozenset({"0", "no", "false", "n"})


class PrepareError(ValueError):
    """The source data cannot be turned into training data; the message names the column or row."""


@dataclass(frozen=True)
class PrepareOptions:
    source_path: str
    output_path: str
    target: str
    drop: tuple[str, ...] = ()
    validation_share: float = 0.2
    # The columns the served model will be asked about: a table without them would train a model
    # the eligibility service cannot call, so it is refused here rather than after training.
    required: tuple[str, ...] = ()


@dataclass
class Split:
    header: list[str]
    train: list[list[str]] = field(default_factory=list)
    validation: list[list[str]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation)}


def parse_options(args: dict[str, str]) -> PrepareOptions:
    missing = [name for name in REQUIRED_ARGUMENTS if not args.get(name)]
    if missing:
        raise PrepareError("missing job argument(s): " + ", ".join(f"--{name}" for name in missing))
    share = float(args.get("validation_share") or 0.2)
    if not 0 < share < 1:
        raise PrepareError(f"--validation_share must be between 0 and 1, got {share}")
    return PrepareOptions(
        args["source_path"],
        args["output_path"],
        args["target"],
        _columns(args.get("drop")),
        share,
        _columns(args.get("required_columns")),
    )


def _columns(value: str | None) -> tuple[str, ...]:
    return tuple(column.strip() for column in (value or "").split(",") if column.strip())


def read_rows(text: str) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of one CSV file, whatever its delimiter."""
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)  # the header names no column with a delimiter in it
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise PrepareError("the source file is empty (no header row)")
    return [column.strip() for column in header], reader


def split_rows(
    header: Sequence[str], rows: Iterable[Sequence[str]], options: PrepareOptions, split: Split | None = None
) -> Split:
    """Drop leaking columns, normalise the target to 1/0, and assign each row to train or validation."""
    if options.target not in header:
        raise PrepareError(f"target column {options.target!r} not found; columns: {', '.join(header)}")
    missing = [column for column in options.required if column not in header]
    if missing:
        raise PrepareError(f"the training table lacks the model's input column(s): {', '.join(missing)}")
    unknown = [column for column in options.drop if column not in header]
    if unknown:
        raise PrepareError(f"--drop names unknown column(s): {', '.join(unknown)}")
    keep = [index for index, column in enumerate(header) if column not in options.drop]
    target_index = header.index(options.target)
    split = split or Split(header=[header[index] for index in keep])
    if split.header != [header[index] for index in keep]:
        raise PrepareError("source files disagree on their columns")
    threshold = int(options.validation_share * 2**32)
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise PrepareError(f"row {line}: {len(row)} values for {len(header)} columns")
        label = row[target_index].strip().lower()
        if label not in POSITIVE | NEGATIVE:
            raise PrepareError(
                f"row {line}: target {options.target!r} is {row[target_index]!r}, expected yes/no or 1/0"
            )
        kept = [row[index] for index in keep]
        kept[split.header.index(options.target)] = "1" if label in POSITIVE else "0"
        bucket = int.from_bytes(hashlib.sha256("\x1f".join(row).encode()).digest()[:4], "big")
        (split.validation if bucket < threshold else split.train).append(kept)
    return split


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _s3_location(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise PrepareError(f"expected an s3:// URL, got {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    return bucket, prefix


def run(s3: object, options: PrepareOptions) -> dict[str, int]:
    """Read every object under the source prefix, write the split; returns the row counts."""
    bucket, prefix = _s3_location(options.source_path)
    paginator = s3.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    keys = [
        item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for item in page.get("Contents", [])
    ]
    split: Split | None = None
    for key in sorted(key for key in keys if not key.endswith("/")):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
        header, rows = read_rows(body.decode("utf-8-sig"))
        split = split_rows(header, rows, options, split)
    if split is None or not split.train or not split.validation:
        raise PrepareError(f"no training rows under {options.source_path}")
    out_bucket, out_prefix = _s3_location(options.output_path.rstrip("/") + "/")
    for name, part in (("train", split.train), ("validation", split.validation)):
        s3.put_object(  # type: ignore[attr-defined]
            Bucket=out_bucket, Key=f"{out_prefix}{name}/data.csv", Body=to_csv(split.header, part).encode()
        )
    return split.counts


if __name__ == "__main__":
    import boto3
    from awsglue.utils import getResolvedOptions

    present = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in sys.argv]
    counts = run(boto3.client("s3"), parse_options(getResolvedOptions(sys.argv, REQUIRED_ARGUMENTS + present)))
    print(f"prepared propensity training data: {counts}")  # noqa: T201 - a Python shell job logs its stdout
