"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from eligibility.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "api" / "eligibility-openapi.json"
REGENERATE = "PYTHONPATH=lambdas .venv/bin/python -m eligibility.openapi docs/api/eligibility-openapi.json"


def test_committed_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_document(), f"stale: run `{REGENERATE}`"


def test_every_route_documents_its_problems_and_the_decision_shape() -> None:
    document = json.loads(openapi_document())
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("POST", "/customers/{customer_id}/eligibility"),
        ("GET", "/customers/{customer_id}/next-best-action"),
        ("PUT", "/rule-sets/{version}"),
        ("GET", "/rule-sets/{version}"),
        ("PUT", "/rule-sets/{version}/activate"),
    }
    for operation in operations.values():
        assert "application/problem+json" in operation["responses"]["400"]["content"]
    decision = document["components"]["schemas"]["EligibilityDecision"]["properties"]
    assert {"eligible", "offers", "reasons", "rule_set_version", "score", "score_source"} <= set(decision)
    action = document["components"]["schemas"]["NextBestAction"]["properties"]
    assert {"customer_id", "action", "script", "reasons", "inputs", "policy_version"} <= set(action)
    assert document["security"] == [{"sigv4": []}]
