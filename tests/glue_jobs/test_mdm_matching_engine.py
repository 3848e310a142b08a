"""Engine 2 on a small fixture with known duplicates (600 synthetic records, matched once per session),
and on a data set whose EM used to underflow."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd
import pytest

from glue_jobs.dedupe import DedupeResult, dedupe
from glue_jobs.evaluation import pairwise_scores
from glue_jobs.matching_model import MatchSettings, build_settings
from glue_jobs.synthetic_customers import generate_customers


def truth_of(customers: pd.DataFrame) -> dict[str, str]:
    keys = customers["source_system"] + ":" + customers["source_id"]
    return dict(zip(keys, customers["entity_id"], strict=True))


def test_given_known_duplicates_when_matched_then_pairwise_f1_is_high(
    customers: pd.DataFrame, deduped: DedupeResult
) -> None:
    scores = pairwise_scores(deduped.clusters, truth_of(customers))
    assert scores.precision >= 0.97, scores.summary()
    assert scores.recall >= 0.9, scores.summary()


def test_given_a_nickname_swap_and_reformatted_phone_when_matched_then_they_share_a_cluster(
    customers: pd.DataFrame, deduped: DedupeResult
) -> None:
    truth = truth_of(customers)
    entities: dict[str, list[str]] = {}
    for key, entity in truth.items():
        entities.setdefault(entity, []).append(key)
    duplicates = [keys for keys in entities.values() if len(keys) > 1]
    together = sum(len({deduped.clusters[key] for key in keys}) == 1 for keys in duplicates)
    assert together / len(duplicates) >= 0.9


def test_given_matched_pairs_when_inspected_then_each_link_is_explained_by_partial_weights(
    deduped: DedupeResult,
) -> None:
    pairs = deduped.outcome.pairs
    explain = [column for column in pairs.columns if column.startswith("mw_")]
    assert {"mw_first_name_last_name", "mw_date_of_birth", "mw_email", "mw_phone"} <= set(explain)
    assert (pairs["match_probability"] >= MatchSettings().threshold_match_probability).all()
    comparisons = [c["output_column_name"] for c in deduped.outcome.model["comparisons"]]
    assert "first_name_last_name" in comparisons


def test_given_the_model_when_built_for_duckdb_and_spark_then_one_definition_serves_both() -> None:
    duckdb_settings = build_settings().create_settings_dict("duckdb")
    spark_settings = build_settings().create_settings_dict("spark")
    assert [c["output_column_name"] for c in duckdb_settings["comparisons"]] == [
        c["output_column_name"] for c in spark_settings["comparisons"]
    ]
    assert len(duckdb_settings["blocking_rules_to_generate_predictions"]) == len(
        spark_settings["blocking_rules_to_generate_predictions"]
    )


def test_given_two_namesakes_when_their_emails_are_compared_then_similar_user_names_are_no_evidence() -> None:
    # User names are made from the name: john.smith12@ and john.smith47@ say nothing the name has not said.
    pairs = pd.DataFrame(
        [
            ("same name, other user name", "john.smith12@gmail.com", "john.smith47@gmail.com"),
            ("same name, other user name and domain", "john.smith12@gmail.com", "jon.smith47@outlook.com"),
            ("same address", "john.smith12@gmail.com", "john.smith12@gmail.com"),
            ("same user name, other domain", "john.smith12@gmail.com", "john.smith12@outlook.com"),
            ("one missing", "john.smith12@gmail.com", None),
        ],
        columns=["case", "email_l", "email_r"],
    )
    (email,) = [c for c in build_settings().get_settings("duckdb").comparisons if c.output_column_name == "email"]
    connection = duckdb.connect()
    connection.register("pairs", pairs)
    sql = f'select "case", {email._case_statement} from pairs'  # noqa: S608 - the model's own SQL
    levels = dict(connection.execute(sql).fetchall())
    labels = {level.comparison_vector_value: level.label_for_charts for level in email.comparison_levels}
    assert {case: labels[level] for case, level in levels.items()} == {
        "same name, other user name": "All other comparisons",
        "same name, other user name and domain": "All other comparisons",
        "same address": "Exact match on email",
        "same user name, other domain": "Exact match on user name, other domain",
        "one missing": "email is NULL",
    }


def test_given_threshold_outside_unit_interval_when_configured_then_error() -> None:
    with pytest.raises(ValueError, match="threshold"):
        MatchSettings(threshold_match_probability=1.5)


def test_given_m_floor_outside_its_range_when_configured_then_error() -> None:
    with pytest.raises(ValueError, match="m_floor"):
        MatchSettings(m_floor=0.0)


@pytest.fixture(scope="module")
def underflowing() -> pd.DataFrame:
    """Seed 1 at 1,000 records: EM drives some levels' m to 0 (Splink 5 refuses an m below 1e-300).

    Seed 7 did so with the birth-date-only EM session (and at 1,500 and 2,000 records); its
    birth-date + city session no longer does there, so the fixture moved to a seed that still does.
    """
    return generate_customers(1000, seed=1)


def test_given_em_driving_an_m_to_zero_when_matched_then_the_level_is_fixed_at_the_floor_and_f1_stays_high(
    underflowing: pd.DataFrame, fast_settings: MatchSettings
) -> None:
    messages: list[str] = []
    result = dedupe(underflowing.drop(columns="entity_id"), settings=fast_settings, progress=messages.append)
    scores = pairwise_scores(result.clusters, truth_of(underflowing))
    assert scores.precision >= 0.99, scores.summary()
    assert scores.f1 >= 0.98, scores.summary()
    assert any("EM restarted" in message for message in messages)
    fixed = [
        (comparison["output_column_name"], level)
        for comparison in result.outcome.model["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("fix_m_probability")
    ]
    assert fixed
    assert all(level["m_probability"] == fast_settings.m_floor for _, level in fixed)
    assert {"email", "phone"} & {column for column, _ in fixed}


def test_given_a_floor_below_what_a_probe_can_see_when_em_underflows_then_the_session_is_skipped_not_fatal(
    underflowing: pd.DataFrame, fast_settings: MatchSettings
) -> None:
    # No level falls below 1e-290 within the probe's iterations: nothing to fix, so the last resort runs.
    messages: list[str] = []
    result = dedupe(
        underflowing.drop(columns="entity_id"),
        settings=replace(fast_settings, m_floor=1e-290),
        progress=messages.append,
    )
    assert any("skipped" in message for message in messages)
    assert len(result.golden_records) < len(underflowing)
