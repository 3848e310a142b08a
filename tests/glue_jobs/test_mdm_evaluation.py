from __future__ import annotations

import pytest

from glue_jobs.evaluation import entities_from_links, pairwise_scores
from glue_jobs.febrl import febrl_as_customers


def test_given_perfect_clustering_when_scored_then_all_metrics_one() -> None:
    truth = {"a": 1, "b": 1, "c": 2}
    scores = pairwise_scores({"a": "x", "b": "x", "c": "y"}, truth)
    assert (scores.precision, scores.recall, scores.f1, scores.clusters) == (1.0, 1.0, 1.0, 2)


def test_given_one_wrong_merge_when_scored_then_precision_counts_pairs() -> None:
    truth = {"a": 1, "b": 1, "c": 2}
    scores = pairwise_scores({"a": "x", "b": "x", "c": "x"}, truth)
    assert scores.predicted_pairs == 3
    assert scores.true_positive_pairs == 1
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == 1.0


def test_given_missing_prediction_when_scored_then_error() -> None:
    with pytest.raises(ValueError, match="no predicted cluster"):
        pairwise_scores({"a": "x"}, {"a": 1, "b": 1})


def test_given_links_when_grouped_then_connected_components() -> None:
    entities = entities_from_links(["a", "b", "c", "d"], [("a", "b"), ("c", "b")])
    assert entities["a"] == entities["b"] == entities["c"] == "a"
    assert entities["d"] == "d"


def test_given_febrl1_when_loaded_then_customer_schema_with_its_500_true_pairs() -> None:
    customers, truth = febrl_as_customers("febrl1")
    assert len(customers) == 1000
    assert customers["source_id"].is_unique
    sizes: dict[str, int] = {}
    for entity in truth.values():
        sizes[entity] = sizes.get(entity, 0) + 1
    assert sum(n * (n - 1) // 2 for n in sizes.values()) == 500
