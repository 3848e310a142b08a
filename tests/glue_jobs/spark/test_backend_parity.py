"""The same model on Spark (the Glue 5.0 job) and on DuckDB (the local run) gives the same answers.

FEBRL3 (5,000 records with known duplicates) goes through both engines; every
comparison and blocking rule of the model is also evaluated on both backends pair
by pair, so a SQL dialect slip fails here rather than on the first night in AWS.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd
import pytest
from splink import SparkAPI

from glue_jobs.dedupe import golden_records_from_clusters
from glue_jobs.evaluation import pairwise_scores
from glue_jobs.matching_model import (
    build_settings,
    comparisons,
    deterministic_rules,
    prediction_blocking_rules,
    training_blocking_rules,
)
from glue_jobs.normalise import normalise_frame
from glue_jobs.publication import IdentityLink, resolve_links
from glue_jobs.synthetic_customers import TRUTH_COLUMN, generate_customers
from tests.glue_jobs.spark.conftest import SPARK_TIER, Febrl3Runs

pytestmark = SPARK_TIER


def test_given_febrl3_when_matched_on_spark_and_on_duckdb_then_both_reach_the_target_and_agree(
    febrl3: Febrl3Runs,
) -> None:
    on_spark = pairwise_scores(febrl3.spark.clusters(), febrl3.spark.truth)
    on_duckdb = pairwise_scores(febrl3.duckdb.clusters, febrl3.spark.truth)

    assert on_spark.f1 >= 0.99, on_spark.summary()
    assert on_duckdb.f1 >= 0.99, on_duckdb.summary()
    assert abs(on_spark.f1 - on_duckdb.f1) <= 0.005, (on_spark.summary(), on_duckdb.summary())


def test_given_febrl3_when_published_by_both_engines_then_golden_records_have_one_schema(febrl3: Febrl3Runs) -> None:
    def shape(golden: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
        attribute = next(iter(golden["attributes"].values()))
        return sorted(golden), sorted(attribute), sorted(golden["attributes"])

    spark_shapes = {json.dumps(shape(golden)) for golden in febrl3.spark.rows("golden_records")}
    duckdb_shapes = {json.dumps(shape(json.loads(golden.to_json()))) for golden in febrl3.duckdb.golden_records}
    assert spark_shapes <= duckdb_shapes
    assert len(spark_shapes) >= 1


def test_given_spark_clusters_when_survived_and_linked_then_the_output_is_what_the_local_code_makes_of_them(
    febrl3: Febrl3Runs,
) -> None:
    """Spark survives clusters in `applyInPandas` and resolves links in SQL; the local run does both in
    Python. On the same clusters the two must publish the same golden records and the same links,
    shared identifiers withheld alike."""
    golden, candidates = golden_records_from_clusters(febrl3.spark.records, febrl3.spark.clusters())
    expected = resolve_links(candidates)

    assert sorted(febrl3.spark.lines("golden_records")) == sorted(record.to_json() for record in golden)
    published = sorted(
        IdentityLink(row["identifier_type"], row["identifier"], row["golden_id"])
        for row in febrl3.spark.rows("identity_links")
    )
    assert published == expected.links
    assert febrl3.spark.manifest["ambiguous_identifiers"] == len(expected.ambiguous)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """Customers with damaged duplicates (typos, swapped names, other formats), normalised as the model reads them."""
    return normalise_frame(generate_customers(300, seed=41).drop(columns=TRUTH_COLUMN))


def _pairs(sample: pd.DataFrame) -> pd.DataFrame:
    left = sample.add_suffix("_l").assign(key=1)
    right = sample.add_suffix("_r").assign(key=1)
    pairs = left.merge(right, on="key").drop(columns="key")
    return pairs[pairs["unique_id_l"] < pairs["unique_id_r"]].reset_index(drop=True)


def test_given_every_comparison_of_the_model_when_evaluated_on_both_backends_then_each_pair_gets_the_same_level(
    spark: Any, sample: pd.DataFrame
) -> None:
    SparkAPI(spark_session=spark)  # registers Splink's similarity UDFs from the jar, as a run does
    pairs = _pairs(sample.head(120))  # every pair of 120 customers: ~7,000 pairs per comparison
    connection = duckdb.connect()
    connection.register("pairs", pairs)
    spark.createDataFrame(pairs.astype(object).where(pairs.notna(), None)).createOrReplaceTempView("pairs")
    model = {dialect: build_settings().get_settings(dialect).comparisons for dialect in ("duckdb", "spark")}
    assert len(model["spark"]) == len(comparisons())
    for on_duckdb, on_spark in zip(model["duckdb"], model["spark"], strict=True):
        levels = {}
        for dialect, comparison in (("duckdb", on_duckdb), ("spark", on_spark)):
            sql = f"select unique_id_l, unique_id_r, {comparison._case_statement} from pairs"  # noqa: S608 - the model's own SQL
            frame = connection.execute(sql).df() if dialect == "duckdb" else spark.sql(sql).toPandas()
            column = comparison._gamma_column_name
            levels[dialect] = frame.sort_values(["unique_id_l", "unique_id_r"])[column].astype(int).tolist()
        comparison = on_spark
        assert levels["duckdb"] == levels["spark"], comparison.output_column_name
        # Pairs that agree and pairs that do not: a comparison stuck on one level proved nothing.
        assert len(set(levels["spark"])) >= 2, comparison.output_column_name


def test_given_every_blocking_rule_of_the_model_when_joined_on_both_backends_then_the_same_pairs_meet(
    spark: Any, sample: pd.DataFrame
) -> None:
    connection = duckdb.connect()
    connection.register("records", sample)
    spark.createDataFrame(sample.astype(object).where(sample.notna(), None)).createOrReplaceTempView("records")
    rules = [*prediction_blocking_rules(), *training_blocking_rules(), *deterministic_rules()]
    for rule in rules:
        found = {}
        for dialect in ("duckdb", "spark"):
            condition = rule if isinstance(rule, str) else rule.get_blocking_rule(dialect).blocking_rule_sql
            # The model's own SQL, nothing from outside.
            sql = f"select l.unique_id as l_id, r.unique_id as r_id from records l join records r on ({condition}) and l.unique_id < r.unique_id"  # noqa: S608
            frame = connection.execute(sql).df() if dialect == "duckdb" else spark.sql(sql).toPandas()
            found[dialect] = set(zip(frame["l_id"], frame["r_id"], strict=True))
        assert found["duckdb"] == found["spark"], condition
        assert found["spark"], f"no pair of the sample meets {condition}: the rule proved nothing"
