"""Preparing propensity training data: leakage dropped, target normalised, deterministic split, clear errors."""

from __future__ import annotations

import csv
import io
import random

import boto3
import pytest
from moto import mock_aws

from glue_jobs.propensity_prepare import PrepareError, PrepareOptions, parse_options, read_rows, run, split_rows

OPTIONS = PrepareOptions("s3://raw/propensity/", "s3://curated/propensity/run-1/", "y", ("duration",), 0.2)


def _sample(rows: int = 2000) -> str:
    """Rows shaped like the bank marketing set: semicolon-separated, quoted text, `duration` leaks the outcome."""
    generator = random.Random(7)
    lines = ['"age";"job";"duration";"y"']
    for _ in range(rows):
        subscribed = generator.random() < 0.12
        job = generator.choice(["admin.", "services", "retired", "student"])
        duration = generator.randint(300, 900) if subscribed else generator.randint(5, 400)
        lines.append(f'{generator.randint(18, 90)};"{job}";{duration};"{"yes" if subscribed else "no"}"')
    return "\n".join(lines) + "\n"


def test_leaking_columns_go_and_the_target_becomes_binary() -> None:
    header, rows = read_rows(_sample())
    split = split_rows(header, rows, OPTIONS)
    assert "duration" not in split.header
    assert "duration" in header
    target = split.header.index("y")
    assert {row[target] for row in split.train + split.validation} == {"0", "1"}
    assert sum(split.counts.values()) == 2000


def test_the_split_is_deterministic_and_close_to_the_share() -> None:
    text = _sample()
    first = split_rows(*read_rows(text), OPTIONS)
    second = split_rows(*read_rows(text), OPTIONS)
    assert first.validation == second.validation
    assert 0.15 < len(first.validation) / 2000 < 0.25


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("a;b\n1;yes\n", PrepareOptions("s3://r/", "s3://o/", "y"), "target column 'y' not found; columns: a, b"),
        ("a;y\n1;maybe\n", PrepareOptions("s3://r/", "s3://o/", "y"), "row 2: target 'y' is 'maybe'"),
        ("a;y\n1;yes;3\n", PrepareOptions("s3://r/", "s3://o/", "y"), "row 2: 3 values for 2 columns"),
        ("a;y\n1;yes\n", PrepareOptions("s3://r/", "s3://o/", "y", ("nope",)), "--drop names unknown column(s): nope"),
        (
            "a;y\n1;yes\n",
            PrepareOptions("s3://r/", "s3://o/", "y", required=("a", "spend_30d", "tenure_days")),
            "the training table lacks the model's input column(s): spend_30d, tenure_days",
        ),
    ],
)
def test_bad_data_is_named_by_row_or_column(text: str, options: PrepareOptions, message: str) -> None:
    with pytest.raises(PrepareError) as raised:
        split_rows(*read_rows(text), options)
    assert str(raised.value).startswith(message)


def test_arguments_are_checked() -> None:
    with pytest.raises(PrepareError, match="missing job argument"):
        parse_options({"source_path": "s3://r/"})
    with pytest.raises(PrepareError, match="--validation_share must be between 0 and 1"):
        parse_options({"source_path": "s3://r/", "output_path": "s3://o/", "target": "y", "validation_share": "1.5"})
    options = parse_options(
        {"source_path": "s3://r/", "output_path": "s3://o/", "target": "y", "drop": "duration, pdays"}
    )
    assert options.drop == ("duration", "pdays")


def test_the_job_reads_the_lake_prefix_and_writes_train_and_validation() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        for bucket in ("raw", "curated"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        s3.put_object(Bucket="raw", Key="propensity/bank.csv", Body=_sample(500).encode())
        counts = run(s3, OPTIONS)
        written = {
            name: list(
                csv.reader(
                    io.StringIO(
                        s3.get_object(Bucket="curated", Key=f"propensity/run-1/{name}/data.csv")["Body"].read().decode()
                    )
                )
            )
            for name in ("train", "validation")
        }
    assert counts == {"train": len(written["train"]) - 1, "validation": len(written["validation"]) - 1}
    assert sum(counts.values()) == 500
    assert written["train"][0] == written["validation"][0]
    assert "duration" not in written["train"][0]


def test_an_empty_prefix_is_an_error() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="raw", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        with pytest.raises(PrepareError, match="no training rows under s3://raw/propensity/"):
            run(s3, OPTIONS)
