"""Pairwise evaluation of a clustering against the truth.

Pairwise metrics count record pairs: a pair is predicted when both records share a
cluster and true when both share an entity. They are computed from group sizes
(n choose 2 per group), never by enumerating pairs, so 100,000 records cost nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glue_jobs.customer_schema import record_key

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    """Pairwise precision, recall and F1 of a clustering, with the counts behind them."""

    true_positive_pairs: int
    predicted_pairs: int
    true_pairs: int
    clusters: int
    records: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def summary(self) -> str:
        return (
            f"records={self.records} clusters={self.clusters} precision={self.precision:.4f} "
            f"recall={self.recall:.4f} f1={self.f1:.4f} (true pairs {self.true_pairs}, "
            f"predicted {self.predicted_pairs}, correct {self.true_positive_pairs})"
        )


def _pairs(sizes: Iterable[int]) -> int:
    return sum(size * (size - 1) // 2 for size in sizes)


def pairwise_scores(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> PairwiseScores:
    """Score `predicted` (record -> cluster) against `truth` (record -> entity) on their common records."""
    records = predicted.keys() & truth.keys()
    if len(records) != len(truth):
        raise ValueError(f"{len(truth) - len(records)} records with a truth have no predicted cluster")
    clusters = Counter(predicted[record] for record in records)
    entities = Counter(truth[record] for record in records)
    both = Counter((predicted[record], truth[record]) for record in records)
    return PairwiseScores(
        true_positive_pairs=_pairs(both.values()),
        predicted_pairs=_pairs(clusters.values()),
        true_pairs=_pairs(entities.values()),
        clusters=len(clusters),
        records=len(records),
    )


def entities_from_links(records: Iterable[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Record -> entity from a list of true links: the connected components, named by their smallest record."""
    parent = {record: record for record in records}

    def root(record: str) -> str:
        while parent[record] != record:
            parent[record] = parent[parent[record]]
            record = parent[record]
        return record

    for left, right in links:
        left_root, right_root = root(left), root(right)
        if left_root != right_root:
            parent[max(left_root, right_root)] = min(left_root, right_root)
    return {record: root(record) for record in parent}


def labelled_customers(
    records: pd.DataFrame, *, id_column: str, truth_column: str
) -> tuple[pd.DataFrame, dict[str, Hashable]]:
    """Customer records with a truth column, as the matching's input (`source_id` from `id_column`, one
    `input` source system where the file names none) and the true entity of each record key.
    ValueError naming a missing column."""
    for column in (id_column, truth_column):
        if column not in records.columns:
            raise ValueError(f"no column {column!r}")
    records = records.assign(source_id=records[id_column])
    if "source_system" not in records.columns:
        records = records.assign(source_system="input")
    truth = {
        record_key(str(system), str(source_id)): entity
        for system, source_id, entity in zip(
            records["source_system"], records["source_id"], records[truth_column], strict=True
        )
    }
    return records, truth
