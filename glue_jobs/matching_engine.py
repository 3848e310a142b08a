"""Engine 2: train the shared Splink model, score candidate pairs, cluster them.

`run_model` is backend-neutral: it takes a Splink database API (DuckDB here, Spark
on Glue 5.0) and the normalised table, so both runs execute the same steps on the
same model. Training is unsupervised: u from random sampling, m by expectation
maximisation, the prior from deterministic rules; no labels are needed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.database_api import DatabaseAPISubClass
from splink.internals.splink_dataframe import SplinkDataFrame

from glue_jobs.matching_model import (
    MatchSettings,
    build_settings,
    deterministic_rules,
    training_blocking_rules,
)

Progress = Callable[[str], None]


def no_progress(_message: str) -> None:
    """The default progress sink: library callers rarely want chatter."""


@dataclass(frozen=True, slots=True)
class ModelRun:
    """What one run of the model produced, still inside the backend that computed it."""

    linker: Linker
    predictions: SplinkDataFrame
    clusters: SplinkDataFrame


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """A local run's results as pandas frames.

    Attributes:
        clusters: `unique_id`, `cluster_id`: one row per input record.
        pairs: scored pairs at or above the threshold, with `match_weight`,
            `match_probability` and one `mw_<comparison>` partial match weight per
            comparison (plus `mw_tf_adj_*` term-frequency adjustments): they sum to
            `match_weight`, so every link can be explained.
        model: the trained model (Splink JSON): the m and u of every comparison level.
    """

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: dict[str, Any]


# (comparison output column, position of the level in the comparison): a level of the saved model.
LevelRef = tuple[str, int]

# Iterations of the probe session that finds the levels EM drives to zero: enough for such a
# level to fall far below any floor (it shrinks doubly exponentially), few enough to stay above
# float64 underflow. One iteration is the fallback when two already underflow.
_PROBE_ITERATIONS = (2, 1)


def _is_m_underflow(error: ValueError) -> bool:
    """Splink 5 refuses an m (or u) probability below 1e-300 the moment EM assigns it."""
    return "below the minimum allowed value" in str(error)


def _linker(table: SplinkDataFrame, model: dict[str, Any]) -> Linker:
    # A fresh cache id per linker: a probe must not share (and later drop) another linker's tables.
    return Linker(table, {key: value for key, value in model.items() if key != "linker_uid"}, log_level=logging.ERROR)


def _level_name(model: dict[str, Any], level: LevelRef) -> str:
    column, position = level
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == column)
    return f"{column} '{comparison['comparison_levels'][position].get('label_for_charts', position)}'"


def _with_fixed_m(model: dict[str, Any], levels: set[LevelRef], m_floor: float) -> dict[str, Any]:
    """`model` with the m probability of `levels` fixed at `m_floor`, so EM leaves them alone."""
    copied = copy.deepcopy(model)
    for comparison in copied["comparisons"]:
        for position, level in enumerate(comparison["comparison_levels"]):
            if (comparison["output_column_name"], position) in levels:
                level["m_probability"] = m_floor
                level["fix_m_probability"] = True
    return copied


def _collapsing_levels(
    table: SplinkDataFrame, model: dict[str, Any], rule: BlockingRuleCreator, m_floor: float
) -> set[LevelRef]:
    """Levels whose m a short EM session on `rule` pushes below `m_floor` (where a full session underflows).

    Such a level holds (almost) no matches among the pairs `rule` generates: its maximum-likelihood
    m is 0, which EM approaches doubly exponentially because the non-matches in it tend to disagree
    on several such levels at once.
    """
    for iterations in _PROBE_ITERATIONS:
        probe = _linker(table, model | {"max_iterations": iterations})
        try:
            probe.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as error:
            if not _is_m_underflow(error):
                raise
            continue
        return {
            (comparison["output_column_name"], position)
            for comparison in probe.misc.save_model_to_json()["comparisons"]
            for position, level in enumerate(comparison["comparison_levels"])
            if isinstance(level.get("m_probability"), float)
            and not level.get("fix_m_probability")
            and level["m_probability"] < m_floor
        }
    return set()


def _estimate_m(linker: Linker, progress: Progress, *, skip_failing: bool = False) -> BlockingRuleCreator | None:
    """Run every EM session; returns the first whose m underflows (None if all trained)."""
    for rule in training_blocking_rules():
        progress("estimating m by expectation maximisation")
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as error:
            if not _is_m_underflow(error):
                raise
            if not skip_failing:
                return rule
            # A failed session changes nothing: its comparisons keep the other sessions' estimates.
            progress("  skipped: an m probability still underflows; the other sessions' estimates stand")
    return None


def train(table: SplinkDataFrame, settings: MatchSettings, progress: Progress = no_progress) -> Linker:
    """A linker of the customer model on `table` whose parameters are estimated from the data alone.

    When an EM session drives the m probability of some level to zero (Splink refuses values
    that underflow float64), those levels are found with a short probe session, fixed at
    `settings.m_floor`, and every EM session is run again from the same u and prior. A session
    that still fails after that is skipped, so training never fails on valid input.
    """
    linker = Linker(table, build_settings(), log_level=logging.ERROR)
    progress("estimating the match prior from deterministic rules")
    linker.training.estimate_probability_two_random_records_match(deterministic_rules(), recall=settings.prior_recall)
    progress(f"estimating u from {settings.u_max_pairs:,.0f} random pairs")
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=settings.seed, num_chunks=settings.u_chunks
    )
    untrained = linker.misc.save_model_to_json()
    fixed: set[LevelRef] = set()
    while (failed := _estimate_m(linker, progress)) is not None:
        model = _with_fixed_m(untrained, fixed, settings.m_floor)
        collapsing = _collapsing_levels(table, model, failed, settings.m_floor)
        if not collapsing - fixed:
            linker = _linker(table, model)
            _estimate_m(linker, progress, skip_failing=True)
            break
        named = "; ".join(_level_name(untrained, level) for level in sorted(collapsing - fixed))
        progress(f"EM drives m to 0 for {named}: fixed at {settings.m_floor:g}, EM restarted")
        fixed |= collapsing
        linker = _linker(table, _with_fixed_m(untrained, fixed, settings.m_floor))
    return linker


def pair_columns(columns: Iterable[str]) -> list[str]:
    """The columns of a published scored pair: both ids, the weight, the probability and its explanation."""
    explain = [column for column in columns if column.startswith("mw_")]
    return ["unique_id_l", "unique_id_r", "match_weight", "match_probability", *explain]


def run_model(
    db_api: DatabaseAPISubClass,
    normalised: Any,
    settings: MatchSettings,
    progress: Progress = no_progress,
) -> ModelRun:
    """Train, predict and cluster `normalised` (a pandas or Spark frame of `MATCH_COLUMNS`)."""
    linker = train(db_api.register(normalised), settings, progress)
    progress("scoring candidate pairs")
    predictions = linker.inference.predict(
        threshold_match_probability=settings.threshold_match_probability, warning_mode="never"
    )
    progress("clustering")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=settings.threshold_match_probability
    )
    return ModelRun(linker=linker, predictions=predictions, clusters=clusters)


def match_local(
    normalised: pd.DataFrame,
    settings: MatchSettings | None = None,
    progress: Progress = no_progress,
) -> MatchOutcome:
    """Run the model in-process on DuckDB: the embedded default for the sandbox and tests."""
    connection = duckdb.connect()
    # DuckDB's own progress bar would interleave with the caller's progress lines.
    connection.execute("SET enable_progress_bar = false")
    run = run_model(DuckDBAPI(connection), normalised, settings or MatchSettings(), progress)
    clusters = run.clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    pairs = run.predictions.as_pandas_dataframe()
    pairs = pairs[pair_columns(pairs.columns)]
    return MatchOutcome(clusters=clusters, pairs=pairs, model=run.linker.misc.save_model_to_json())
