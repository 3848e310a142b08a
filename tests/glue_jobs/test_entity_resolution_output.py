"""Which match sets of Entity Resolution's output are merged and which records are held apart (pure pandas)."""

from __future__ import annotations

import pandas as pd
import pytest

from glue_jobs.entity_resolution_output import HELD_APART_PREFIX, OutputError, clusters_of_output


def _output(*rows: tuple[str, str, str, object]) -> pd.DataFrame:
    """(source system, source id, MatchID, ConfidenceLevel) rows."""
    return pd.DataFrame(rows, columns=["source_system", "source_id", "MatchID", "ConfidenceLevel"])


def test_a_confident_match_set_is_one_cluster_and_an_unsure_one_is_held_apart() -> None:
    clusters, held = clusters_of_output(
        _output(
            ("crm", "1", "m1", "0.97"),
            ("pos", "9", "m1", "0.97"),
            ("crm", "2", "m2", "0.42"),
            ("web", "7", "m2", "0.42"),
        ),
        0.9,
    )
    assert clusters["crm:1"] == clusters["pos:9"] == "m1"
    assert clusters["crm:2"] == f"{HELD_APART_PREFIX}crm:2"
    assert clusters["web:7"] == f"{HELD_APART_PREFIX}web:7"
    assert held == 2


@pytest.mark.parametrize("confidence", ["", "n/a", None, float("nan")])
def test_a_missing_or_unreadable_confidence_is_not_confidence(confidence: object) -> None:
    _, held = clusters_of_output(_output(("crm", "1", "m1", confidence), ("pos", "9", "m1", confidence)), 0.9)
    assert held == 2


def test_a_record_alone_in_its_match_set_is_never_counted_as_held_apart() -> None:
    clusters, held = clusters_of_output(_output(("crm", "1", "m1", ""), ("crm", "2", "m2", "0.1")), 0.9)
    assert (clusters, held) == ({"crm:1": "m1", "crm:2": "m2"}, 0)


def test_the_threshold_itself_is_confident_enough() -> None:
    _, held = clusters_of_output(_output(("crm", "1", "m1", "0.9"), ("pos", "9", "m1", "0.9")), 0.9)
    assert held == 0


def test_without_a_minimum_every_match_set_is_kept_and_no_confidence_is_needed() -> None:
    output = _output(("crm", "1", "m1", None), ("pos", "9", "m1", None)).drop(columns="ConfidenceLevel")
    clusters, held = clusters_of_output(output, None)
    assert (clusters, held) == ({"crm:1": "m1", "pos:9": "m1"}, 0)


def test_output_it_cannot_read_is_refused_naming_the_column() -> None:
    with pytest.raises(OutputError, match="no MatchID column"):
        clusters_of_output(pd.DataFrame({"source_system": ["crm"], "source_id": ["1"]}), None)
    rules = _output(("crm", "1", "m1", None)).drop(columns="ConfidenceLevel")
    with pytest.raises(OutputError, match="no ConfidenceLevel column"):
        clusters_of_output(rules, 0.9)
