"""Property-based: whatever the path, headers and body, the API never answers 5xx and every error is a problem."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.problems import PROBLEM_JSON, Problem
from tests.lambdas.conftest import CUSTOMER_ID, Invoke, api_event

CLIENT_ERRORS = {400, 404, 409, 412, 415, 422, 428}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
attribute_values = st.one_of(
    json_values, st.emails(), st.sampled_from(["07700 900123", "+33 1 23 45 67 89", "GB", "web"])
)
profile_like = st.dictionaries(
    st.sampled_from(
        ["first_name", "last_name", "email", "phone", "address", "language", "preferred_channel", "date_of_birth", "x"]
    ),
    attribute_values,
    max_size=5,
)
consent_like = st.dictionaries(
    st.sampled_from(["web", "email", "sms", "fax"]),
    st.dictionaries(st.sampled_from(["marketing", "analytics", "spam"]), json_values, max_size=2),
    max_size=2,
)
bodies = st.one_of(st.none(), st.text(max_size=30), json_values.map(json.dumps), profile_like, consent_like)
customer_ids = st.one_of(st.sampled_from([CUSTOMER_ID, "gc-other", "x"]), st.text(max_size=20))
paths = st.one_of(
    customer_ids.map(lambda id_: f"/customers/{id_}"),
    customer_ids.map(lambda id_: f"/customers/{id_}/consent"),
    st.just("/customers"),
    st.text(max_size=30).map(lambda text: "/" + text),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "If-Match": st.one_of(st.sampled_from(['"1"', '"2"', "*", 'W/"1"', "1", ""]), st.text(max_size=20)),
        "Idempotency-Key": st.one_of(st.uuids().map(str), st.text(max_size=20)),
        "Content-Type": st.sampled_from(
            ["application/json", "application/merge-patch+json", "text/plain", "application/xml", ""]
        ),
    },
)
queries = st.dictionaries(st.sampled_from(["email", "phone", "other"]), st.text(max_size=30), max_size=2)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST"]),
    path=paths,
    request_headers=headers,
    query=queries,
    body=bodies,
)
def test_never_5xx_and_every_error_is_a_problem(
    invoke: Invoke, *, method: str, path: str, request_headers: dict[str, str], query: dict[str, str], body: Any
) -> None:
    invoke(api_event("put_customer", headers={"Idempotency-Key": None}))  # a customer to hit (201 once, then 428)
    event = api_event("get_customer", method=method, path=path, headers=dict(request_headers), query=query, body=body)
    response = invoke(event)
    status = response["statusCode"]
    assert status < 500, response["body"]
    if status >= 400:
        assert status in CLIENT_ERRORS
        content_type = {key.lower(): values for key, values in response["multiValueHeaders"].items()}["content-type"]
        assert content_type == [PROBLEM_JSON]
        problem = Problem.model_validate_json(response["body"])
        assert problem.status == status
        assert problem.type.startswith("urn:omni-cx:problem:")
