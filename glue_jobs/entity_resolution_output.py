"""From AWS Entity Resolution's output to clusters: which match sets are merged, which records are held apart.

Pure pandas, one match set (the rows sharing a `MatchID`) at a time: the Glue
publication job runs it in `applyInPandas`, the sandbox over a local stand-in of
the output, so both decide alike.

With a minimum confidence (ML matching), a record of a match set whose
`ConfidenceLevel` is below it, or missing or not a number (absent confidence is
not confidence), is held apart: it becomes its own cluster instead of being
merged. A record alone in its match set has nothing to be held apart from. Rules
matching carries no confidence: every match set is kept.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from glue_jobs.customer_schema import record_key
from glue_jobs.entity_resolution_schema import CONFIDENCE_LEVEL, MATCH_ID

CLUSTER_SCHEMA = "unique_id string, cluster_id string, held_apart boolean"
# Cluster ids only tell clusters apart; a record held apart gets one no match set can have.
HELD_APART_PREFIX = "held-apart:"


class OutputError(ValueError):
    """The matched records are not the output this publication can read."""


def check_output_columns(columns: list[str], min_confidence: float | None) -> None:
    if MATCH_ID not in columns:
        raise OutputError(f"the matched records have no {MATCH_ID} column: is this Entity Resolution output?")
    if min_confidence is not None and CONFIDENCE_LEVEL not in columns:
        raise OutputError(
            f"a minimum confidence is set but the matched records have no {CONFIDENCE_LEVEL} column: "
            "is the workflow rule-based? (rules matching has no confidence to hold match sets apart by)"
        )


def match_set_clusters(members: pd.DataFrame, min_confidence: float | None) -> pd.DataFrame:
    """`applyInPandas` body for one match set: each record's `unique_id`, `cluster_id` and `held_apart`."""
    keys = [record_key(str(s), str(i)) for s, i in zip(members["source_system"], members["source_id"], strict=True)]
    match_id = members[MATCH_ID].astype(str).to_numpy()
    if min_confidence is None or len(members) < 2:
        held = pd.Series(False, index=members.index)
    else:
        confidence = pd.to_numeric(members[CONFIDENCE_LEVEL], errors="coerce")
        held = confidence.isna() | (confidence < min_confidence)
    clusters = [
        HELD_APART_PREFIX + key if apart else cluster for key, cluster, apart in zip(keys, match_id, held, strict=True)
    ]
    return pd.DataFrame({"unique_id": keys, "cluster_id": clusters, "held_apart": held.to_numpy(dtype=bool)})


def clusters_of_output(output: pd.DataFrame, min_confidence: float | None) -> tuple[dict[str, str], int]:
    """`record key -> cluster id` of a whole output (pandas), and how many records were held apart."""
    check_output_columns(list(output.columns), min_confidence)
    assigned = [match_set_clusters(members, min_confidence) for _, members in output.groupby(MATCH_ID, sort=False)]
    frame = pd.concat(assigned) if assigned else pd.DataFrame(columns=["unique_id", "cluster_id", "held_apart"])
    clusters: Mapping[str, str] = dict(zip(frame["unique_id"], frame["cluster_id"], strict=True))
    return dict(clusters), int(frame["held_apart"].sum())
