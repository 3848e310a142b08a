"""The committed OpenAPI document is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from profiles.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "api" / "profiles-openapi.json"
REGENERATE = "PYTHONPATH=lambdas .venv/bin/python -m profiles.openapi docs/api/profiles-openapi.json"


def test_committed_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_document(), f"stale: run `{REGENERATE}`"


def test_every_route_documents_its_problems() -> None:
    document = json.loads(openapi_document())
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("GET", "/customers"),
        ("GET", "/customers/{customer_id}"),
        ("PUT", "/customers/{customer_id}"),
        ("PATCH", "/customers/{customer_id}"),
        ("DELETE", "/customers/{customer_id}"),
        ("PUT", "/customers/{customer_id}/consent"),
    }
    for operation in operations.values():
        problems = [
            status
            for status, response in operation["responses"].items()
            if "application/problem+json" in response.get("content", {})
        ]
        assert "400" in problems
    assert "application/merge-patch+json" in operations[("PATCH", "/customers/{customer_id}")]["requestBody"]["content"]
    assert document["security"] == [{"sigv4": []}]
