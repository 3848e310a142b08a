"""Deterministic golden customer ids, and the merges that re-point ids when clusters change.

A golden id is derived from the smallest member key of its cluster, so re-running
the job on the same data gives the same ids (the loader's upserts are idempotent).
When a cluster changes between runs, its smallest member may change too; the old
id then becomes a merge `old -> new` that the loader applies to the identity map.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GOLDEN_ID_PREFIX = "gc-"


def golden_id(member_keys: Iterable[str]) -> str:
    """The golden id of a cluster: a short hash of its smallest member key (`source_system:source_id`)."""
    anchor = min(member_keys)
    return GOLDEN_ID_PREFIX + hashlib.sha256(anchor.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True, order=True)
class Merge:
    """An earlier golden id that no longer exists, and the id its records now belong to."""

    old_golden_id: str
    new_golden_id: str


def merges_from_counts(moves: Iterable[tuple[str, str, int]]) -> list[Merge]:
    """Merges from `(previous id, current id, records)` counts of previously published records.

    An old id that still names a current cluster needs no merge (records that left it
    got ids of their own). An old id that vanished points to the current cluster that
    took most of its records, the smaller id winning a tie.
    """
    by_old: dict[str, dict[str, int]] = defaultdict(dict)
    for old, new, records in moves:
        by_old[old][new] = by_old[old].get(new, 0) + records
    merges = []
    for old, targets in by_old.items():
        if old in targets:
            continue
        new = min(targets, key=lambda target: (-targets[target], target))
        merges.append(Merge(old_golden_id=old, new_golden_id=new))
    return sorted(merges)


def merges_between(previous: Mapping[str, str], current: Mapping[str, str]) -> list[Merge]:
    """Merges from two runs' `record key -> golden id` maps (records new in this run play no part)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for key, old in previous.items():
        new = current.get(key)
        if new is not None:
            counts[(old, new)] += 1
    return merges_from_counts((old, new, records) for (old, new), records in counts.items())
