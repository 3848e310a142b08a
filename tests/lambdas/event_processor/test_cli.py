"""`omni events send`: validation naming line and field, and sending to a moto stream."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from omni_cli import events as cli
from omni_cli.main import CliError

from ..conftest import REGION
from .conftest import event_dict


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="omni")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_invalid_lines_are_named_with_their_field_and_nothing_is_sent(tmp_path: Path) -> None:
    bad = {**event_dict("purchase"), "payload": {"order_id": "o-1", "currency": "GBP"}}
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join([json.dumps(event_dict("page_view")), json.dumps(bad), "{oops"]) + "\n")
    with pytest.raises(CliError) as raised:
        _run(["events", "send", str(source), "--stream", "s", "--region", REGION])
    message = str(raised.value)
    assert "line 2: payload.amount: Field required" in message
    assert "line 3: (event): Invalid JSON" in message
    assert "nothing sent" in message


def test_a_valid_file_lands_on_the_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(event_dict("page_view")) for _ in range(3)) + "\n\n")
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        kinesis.create_stream(StreamName="s", ShardCount=2)
        assert _run(["events", "send", str(source), "--stream", "s", "--region", REGION]) == 0
        shards = kinesis.list_shards(StreamName="s")["Shards"]
        stored = 0
        for shard in shards:
            iterator = kinesis.get_shard_iterator(
                StreamName="s", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            stored += len(kinesis.get_records(ShardIterator=iterator)["Records"])
    assert stored == 3
    assert "sent 3 event(s) in 1 call(s)" in capsys.readouterr().err


def test_a_missing_stream_is_a_user_error(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(json.dumps(event_dict("page_view")) + "\n")
    with mock_aws(), pytest.raises(CliError, match="cannot put records on nowhere"):
        _run(["events", "send", str(source), "--stream", "nowhere", "--region", REGION])
