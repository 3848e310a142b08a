"""Both OpenAPI documents describe every answer: a success with its JSON schema (204 without a body), errors as problems.

A client generated from a document, or a fuzzer checking responses against it,
can only rely on what the document says; so every operation of both documents
is checked here (each API's `test_openapi.py` checks that the committed copy is the generated one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from eligibility.openapi import openapi_document as eligibility_document
from profiles.openapi import openapi_document as profiles_document

DOCUMENTS: dict[str, Callable[[], str]] = {"profiles": profiles_document, "eligibility": eligibility_document}
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
SCHEMAS = "#/components/schemas/"
# What each operation answers on success, as the routes build it.
SUCCESS = {
    "profiles": {
        ("GET", "/customers"): {"200": "CustomerView"},
        ("GET", "/customers/{customer_id}"): {"200": "CustomerView"},
        ("PUT", "/customers/{customer_id}"): {"200": "CustomerView", "201": "CustomerView"},
        ("PATCH", "/customers/{customer_id}"): {"200": "CustomerView"},
        ("DELETE", "/customers/{customer_id}"): {"204": None},
        ("PUT", "/customers/{customer_id}/consent"): {"200": "CustomerView"},
    },
    "eligibility": {
        ("POST", "/customers/{customer_id}/eligibility"): {"200": "EligibilityDecision"},
        ("GET", "/customers/{customer_id}/next-best-action"): {"200": "NextBestAction"},
        ("PUT", "/rule-sets/{version}"): {"200": "RuleSet", "201": "RuleSet"},
        ("GET", "/rule-sets/{version}"): {"200": "RuleSet"},
        ("PUT", "/rule-sets/{version}/activate"): {"200": "ActivationView"},
    },
}


def operations(document: dict[str, Any]) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield (method.upper(), path), operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from [value] if key == "$ref" else refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def description_gaps(document: dict[str, Any]) -> list[str]:
    """Every way in which the document fails to describe an answer of one of its operations."""
    gaps = []
    for (method, path), operation in operations(document):
        where = f"{method} {path}"
        responses: dict[str, Any] = operation["responses"]
        successes = {status: response for status, response in responses.items() if status.startswith("2")}
        if not successes:
            gaps.append(f"{where}: no success response")
        for status, response in successes.items():
            content = response.get("content")
            if status == "204":
                if content is not None:
                    gaps.append(f"{where} 204: declares a body ({sorted(content)})")
                continue
            schema = (content or {}).get(JSON, {}).get("schema")
            if not schema:
                gaps.append(f"{where} {status}: no {JSON} schema")
        for status, response in responses.items():
            if status[0] in "45" and set(response.get("content", {})) != {PROBLEM_JSON}:
                gaps.append(f"{where} {status}: not an {PROBLEM_JSON} problem ({sorted(response.get('content', {}))})")
    schemas = document.get("components", {}).get("schemas", {})
    referenced = {ref.removeprefix(SCHEMAS) for ref in refs(document)}
    gaps += [f"$ref to a missing schema: {name}" for name in sorted(referenced - set(schemas))]
    gaps += [f"schema referenced nowhere: {name}" for name in sorted(set(schemas) - referenced)]
    return gaps


@pytest.mark.parametrize("api", DOCUMENTS)
def test_every_operation_documents_its_success_and_its_errors(api: str) -> None:
    assert description_gaps(json.loads(DOCUMENTS[api]())) == []


@pytest.mark.parametrize("api", DOCUMENTS)
def test_each_success_is_the_model_the_route_returns(api: str) -> None:
    document = json.loads(DOCUMENTS[api]())
    answered = {
        key: {
            status: (response.get("content") or {})
            .get(JSON, {})
            .get("schema", {})
            .get("$ref", "")
            .removeprefix(SCHEMAS)
            or None
            for status, response in operation["responses"].items()
            if status.startswith("2")
        }
        for key, operation in operations(document)
    }
    assert answered == SUCCESS[api]


def test_profile_answers_document_the_headers_they_carry() -> None:
    document = json.loads(profiles_document())
    for (method, path), operation in operations(document):
        for status, response in operation["responses"].items():
            if status in ("200", "201"):
                assert response["headers"]["ETag"]["required"] is True, (method, path, status)
    put = document["paths"]["/customers/{customer_id}"]["put"]["responses"]
    assert "Location" in put["201"]["headers"]
    assert "Content-Location" in document["paths"]["/customers"]["get"]["responses"]["200"]["headers"]


def test_optional_parameters_are_strings_never_null() -> None:
    # A header or query parameter is text when it is sent at all: a document allowing null makes clients
    # (and fuzzers) send the text "null", which the API then refuses.
    for api, document in ((api, json.loads(build())) for api, build in DOCUMENTS.items()):
        for (method, path), operation in operations(document):
            for parameter in operation.get("parameters", []):
                assert "anyOf" not in parameter["schema"], (api, method, path, parameter["name"])
                assert parameter["schema"].get("type") == "string", (api, method, path, parameter["name"])


def test_the_eligibility_request_says_exactly_one_target() -> None:
    request = json.loads(eligibility_document())["components"]["schemas"]["EligibilityRequest"]
    assert request["oneOf"] == [{"required": ["product"]}, {"required": ["offer_code"]}]
    assert request["additionalProperties"] is False
    assert all("anyOf" not in member for member in request["properties"].values())


def test_a_merge_patch_names_the_attributes_it_may_change() -> None:
    document = json.loads(profiles_document())
    body = document["paths"]["/customers/{customer_id}"]["patch"]["requestBody"]["content"]
    schema = body["application/merge-patch+json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(document["components"]["schemas"]["ProfileAttributes"]["properties"])
    assert "required" not in schema
    assert all({"type": "null"} in member["anyOf"] for member in schema["properties"].values())
