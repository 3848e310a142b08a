"""The eligibility service's model payload and the training rows of the same customers encode identically.

Training rows are what the data preparation job writes: one column per
attribute of `eligibility.attributes.MODEL_ATTRIBUTES` (plus `product`), as CSV
text, booleans as true/false and unknown values empty. The service sends
`model_features(...)` as JSON. Both go through the feature definition saved
with the model.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from eligibility.attributes import MODEL_ATTRIBUTES, Fact, customer_facts, model_features
from omni_domain.models import ConsentDecision, CustomerView, LiveState, ProfileAttributes, RollingSpend
from propensity.features import FeatureSpec

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _customer(number: int) -> CustomerView:
    return CustomerView(
        customer_id=f"gc-{number}",
        attributes=ProfileAttributes(
            date_of_birth=date(1950 + number % 50, 1 + number % 12, 1) if number % 3 else None,
            preferred_channel=("email", "sms", "app", None)[number % 4],
        ),
        consent={"email": {"marketing": ConsentDecision(granted=number % 2 == 0, decided_at=NOW)}},
        version=1,
        created_at=NOW - timedelta(days=number * 17),
        updated_at=NOW,
        live_state=LiveState(
            rolling_spend=RollingSpend(last_30_days=Decimal(number * 3), last_365_days=Decimal(number * 41)),
            counters={"complaints": number % 4},
        ),
    )


def _csv_text(value: Fact) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_given_customers_when_encoded_as_training_rows_and_as_the_services_payload_then_vectors_are_identical() -> None:
    payloads = [model_features(customer_facts(_customer(n), now=NOW), product="broadband") for n in range(60)]
    training_rows = [
        {**{name: _csv_text(value) for name, value in payload.items()}, "y": str(n % 2)}
        for n, payload in enumerate(payloads)
    ]
    spec = FeatureSpec.fit(training_rows, target="y")
    assert spec.input_names == ["product", *MODEL_ATTRIBUTES]
    served = FeatureSpec.from_json(spec.to_json()).encode([json.loads(json.dumps(p)) for p in payloads])
    np.testing.assert_array_equal(spec.encode(training_rows), served)
