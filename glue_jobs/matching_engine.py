"""Engine 2: train the shared Splink model, score candidate pairs, cluster them.

`run_model` is backend-neutral: it takes a Splink database API (DuckDB here, Spark
on Glue 5.0) and the normalised table, so both runs execute the same steps on the
same model. Training is unsupervised: u from random sampling, m by expectation
maximisation, the prior from deterministic rules; no labels are needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker
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


def train(linker: Linker, settings: MatchSettings, progress: Progress = no_progress) -> None:
    """Estimate the model's parameters from the data alone."""
    progress("estimating the match prior from deterministic rules")
    linker.training.estimate_probability_two_random_records_match(deterministic_rules(), recall=settings.prior_recall)
    progress(f"estimating u from {settings.u_max_pairs:,.0f} random pairs")
    linker.training.estimate_u_using_random_sampling(
        max_pairs=settings.u_max_pairs, seed=settings.seed, num_chunks=settings.u_chunks
    )
    for rule in training_blocking_rules():
        progress("estimating m by expectation maximisation")
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def run_model(
    db_api: DatabaseAPISubClass,
    normalised: Any,
    settings: MatchSettings,
    progress: Progress = no_progress,
) -> ModelRun:
    """Train, predict and cluster `normalised` (a pandas or Spark frame of `MATCH_COLUMNS`)."""
    table = db_api.register(normalised)
    linker = Linker(table, build_settings(), log_level=logging.ERROR)
    train(linker, settings, progress)
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
    explain_columns = [column for column in pairs.columns if column.startswith("mw_")]
    pairs = pairs[["unique_id_l", "unique_id_r", "match_weight", "match_probability", *explain_columns]]
    return MatchOutcome(clusters=clusters, pairs=pairs, model=run.linker.misc.save_model_to_json())
