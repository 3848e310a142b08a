"""One feature definition for training and serving: the same customer gives the same vector on both paths."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from propensity.data import Row
from propensity.features import FeatureError, FeatureSpec

ROWS: list[Row] = [
    {"age": "41", "job": "admin.", "default": "no", "euribor3m": "4.857", "y": "no"},
    {"age": "29", "job": "student", "default": "unknown", "euribor3m": "", "y": "yes"},
    {"age": "63", "job": "retired", "default": "no", "euribor3m": "1.2", "y": "no"},
]


def _as_served(row: Row) -> dict[str, object]:
    """What a caller sends for the same customer: JSON numbers for numeric columns, null for unknown."""
    spec = FeatureSpec.fit(ROWS, target="y")
    kinds = {column.name: column.kind for column in spec.columns}
    served: dict[str, object] = {}
    for name, value in row.items():
        if name == "y":
            continue
        if kinds[name] == "numeric":
            served[name] = float(value) if value else None
        else:
            served[name] = value
    return served


def test_given_csv_rows_when_fitted_then_columns_kinds_and_sorted_categories_are_learnt() -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    assert [(c.name, c.kind) for c in spec.columns] == [
        ("age", "numeric"),
        ("job", "categorical"),
        ("default", "categorical"),
        ("euribor3m", "numeric"),
    ]
    assert spec.feature_names == [
        "age",
        "job=admin.",
        "job=retired",
        "job=student",
        "default=no",
        "default=unknown",
        "euribor3m",
    ]


def test_given_the_same_customer_when_encoded_for_training_and_for_serving_then_the_vectors_are_identical() -> None:
    training_spec = FeatureSpec.fit(ROWS, target="y")
    serving_spec = FeatureSpec.from_json(training_spec.to_json())  # what inference.py loads from the model dir
    trained_on = training_spec.encode(ROWS)
    served = serving_spec.encode([json.loads(json.dumps(_as_served(row))) for row in ROWS])
    np.testing.assert_array_equal(trained_on, served)  # NaN == NaN here: a missing value stays missing


def test_given_the_bank_sample_when_served_as_json_then_every_row_matches_its_training_vector(rows: list[Row]) -> None:
    spec = FeatureSpec.fit(rows, target="y", drop=["duration"])
    numeric = {c.name for c in spec.columns if c.kind == "numeric"}
    served = [
        {name: (float(value) if name in numeric else value) for name, value in row.items() if name != "y"}
        for row in rows[:500]
    ]
    np.testing.assert_array_equal(spec.encode(rows[:500]), FeatureSpec.from_json(spec.to_json()).encode(served))


def test_given_an_unseen_category_when_encoded_then_no_indicator_is_set() -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    vector = spec.encode([{"age": 30, "job": "astronaut", "default": "no", "euribor3m": 1.0}])[0]
    assert vector[1:4].tolist() == [0.0, 0.0, 0.0]


def test_given_a_missing_attribute_when_encoded_then_the_error_names_it() -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    with pytest.raises(FeatureError) as raised:
        spec.encode([{"age": 30, "job": "admin.", "default": "no"}])
    assert raised.value.field == "euribor3m"


def test_given_text_for_a_numeric_attribute_when_encoded_then_the_error_names_it() -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    with pytest.raises(FeatureError) as raised:
        spec.encode([{"age": "forty", "job": "admin.", "default": "no", "euribor3m": 1}])
    assert raised.value.field == "age"


def test_json_true_and_csv_true_are_one_category() -> None:
    spec = FeatureSpec.fit([{"consent": "true", "y": "1"}, {"consent": "false", "y": "0"}], target="y")
    np.testing.assert_array_equal(
        spec.encode([{"consent": True}, {"consent": False}]), spec.encode([{"consent": "true"}, {"consent": "false"}])
    )


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "age": st.one_of(
                    st.none(), st.integers(-10, 200), st.floats(min_value=-1e30, max_value=1e30), st.just(float("nan"))
                ),
                "job": st.one_of(st.none(), st.text(max_size=20), st.booleans(), st.integers()),
                "default": st.sampled_from(["no", "unknown", "yes", ""]),
                "euribor3m": st.one_of(st.none(), st.floats(-10, 10)),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_json_customer_with_every_attribute_encodes_to_the_fixed_width(customers: list[dict[str, object]]) -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    matrix = spec.encode(customers)
    assert matrix.shape == (len(customers), len(spec.feature_names))
    categorical = matrix[:, 1:6]
    assert set(np.unique(categorical).tolist()) <= {0.0, 1.0}
    unknown_age = [c["age"] is None or (isinstance(c["age"], float) and math.isnan(c["age"])) for c in customers]
    assert np.isnan(matrix[:, 0]).tolist() == unknown_age


@pytest.mark.parametrize("value", [1e300, float("inf"), "-inf", "1e39"])
def test_a_number_beyond_float32_is_refused_naming_the_field(value: object) -> None:
    spec = FeatureSpec.fit(ROWS, target="y")
    with pytest.raises(FeatureError) as raised:
        spec.encode([{"age": value, "job": "admin.", "default": "no", "euribor3m": 1.0}])
    assert raised.value.field == "age"
