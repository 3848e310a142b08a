"""The OpenAPI documents of the platform's REST APIs: success answers declared per route, the document cleaned once.

A route that passes `responses=` to Powertools loses its default success entry,
so every route declares its own with `success(...)` (a JSON schema from the
model it returns, and the headers it sets) or `no_content(...)`, beside its
`problem_responses(...)`. `openapi_document` then removes what Powertools adds
that these APIs never answer: the default 422 `HTTPValidationError` (request
validation is answered as a problem) and the schemas nothing references.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import content_types
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel, StringConstraints, TypeAdapter, WithJsonSchema

SIGV4 = "sigv4"
_SCHEMA_REF = "#/components/schemas/"
_POWERTOOLS_VALIDATION_ERROR = _SCHEMA_REF + "HTTPValidationError"

# The Idempotency-Key header's value, the same on every API that honours it.
IdempotencyKey = Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


def documented_as(kind: Any) -> WithJsonSchema:
    """`Annotated[X | None, documented_as(X)]`: None when absent, but the document shows X alone, without null.

    An optional header, query member or body member is absent or a value: a client reading `null` as allowed
    would send the text "null" (or a JSON null the API refuses). `X | None` stays pydantic's nullable type, so
    a validation error names the member (a union such as `X | SkipJsonSchema[None]` would add the member tried).
    """
    return WithJsonSchema(TypeAdapter(kind).json_schema())


def header(description: str, *, pattern: str | None = None) -> OpenAPIResponseHeader:
    """A response header the route always sets (Powertools' type has no `required`: OpenAPI's header object does)."""
    schema: dict[str, Any] = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return cast(OpenAPIResponseHeader, {"description": description, "required": True, "schema": schema})


def success(
    status: int, model: Any, description: str, *, headers: Mapping[str, OpenAPIResponseHeader] | None = None
) -> dict[int, OpenAPIResponse]:
    """The `responses` entry of a JSON success answer whose body is `model`."""
    response: OpenAPIResponse = {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }
    if headers:
        response["headers"] = dict(headers)
    return {int(HTTPStatus(status)): response}


def no_content(description: str) -> dict[int, OpenAPIResponse]:
    """The `responses` entry of a 204: no body (the empty content map is removed from the document)."""
    return {int(HTTPStatus.NO_CONTENT): {"description": description, "content": {}}}


def merge_patch_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a JSON merge patch (RFC 7396) of `model`'s document, with no reference left in it.

    Every member may be null (removes it) and none is required; an object member is itself such a patch. Whether
    the patched document is valid as a whole depends on what it patches, so that is still checked by the domain.
    """
    schema = model.model_json_schema()
    return _partial(schema, schema.get("$defs", {}))


def _partial(schema: dict[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        return {**schema, "anyOf": [_partial(member, defs) for member in schema["anyOf"]]}
    if "properties" not in schema:
        return schema
    members = {name: _nullable(_partial(member, defs)) for name, member in schema["properties"].items()}
    kept = {key: value for key, value in schema.items() if key not in ("required", "properties", "$defs")}
    return {**kept, "properties": members}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    schema = {key: value for key, value in schema.items() if key != "default"}
    if {"type": "null"} in schema.get("anyOf", []):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def openapi_document(app: APIGatewayRestResolver, *, title: str, version: str, description: str) -> str:
    """The API's OpenAPI document as stable JSON: IAM (SigV4) on every route, only what the API answers."""
    schema = app.get_openapi_json_schema(
        title=title,
        version=version,
        description=description,
        security_schemes={
            SIGV4: APIKey(name="Authorization", in_=APIKeyIn.header, description="AWS Signature Version 4 (IAM)")
        },
        security=[{SIGV4: []}],
    )
    document = json.loads(schema)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            for status, response in list(responses.items()):
                if _refs(response) == {_POWERTOOLS_VALIDATION_ERROR}:
                    del responses[status]
                elif not response.get("content"):
                    response.pop("content", None)
    _drop_unreferenced_schemas(document)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    reachable: set[str] = set()
    pending = {ref.removeprefix(_SCHEMA_REF) for ref in _refs(document.get("paths", {}))}
    while pending:
        name = pending.pop()
        if name in reachable or name not in schemas:
            continue
        reachable.add(name)
        pending |= {ref.removeprefix(_SCHEMA_REF) for ref in _refs(schemas[name])}
    for name in set(schemas) - reachable:
        del schemas[name]


def _refs(node: Any) -> set[str]:
    return set(_walk_refs(node))


def _walk_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_refs(value)
