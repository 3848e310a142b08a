"""`/customers`: read, create or replace, merge-patch, look up by e-mail or phone, erase."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import StringConstraints, WithJsonSchema

from omni_domain.models import CustomerView, ProfileAttributes
from profiles.dependencies import current
from profiles.media_types import MERGE_PATCH_JSON
from profiles.observability import logger, metrics
from profiles.problems import problem_responses
from profiles.responses import customer_response, customer_responses
from profiles.routes.parameters import CustomerIdPath, IdempotencyKeyHeader, IfMatchHeader
from profiles.writes import WriteCommand
from rest_api.openapi import documented_as, merge_patch_schema, no_content

router = Router()
TAGS = ["customers"]
EmailQuery = Annotated[str, StringConstraints(max_length=320)]
PhoneQuery = Annotated[str, StringConstraints(max_length=32)]
# The body is read as any JSON object and patched onto the stored attributes, which are validated as a whole;
# the document still says which members a patch may name (and that null removes one).
PATCH_SCHEMA = WithJsonSchema(merge_patch_schema(ProfileAttributes))


@router.get(
    "/customers/<customer_id>",
    tags=TAGS,
    summary="A customer and its live state",
    responses={**customer_responses(), **problem_responses(400, 404, 500)},
)
def get_customer(customer_id: CustomerIdPath) -> Response[CustomerView]:
    customer = current().service.get(customer_id)
    _count("CustomerRead", customer_id)
    return customer_response(customer)


@router.get(
    "/customers",
    tags=TAGS,
    summary="The customer an e-mail or a phone resolves to (identity map)",
    description="Exactly one of `email` or `phone`; they are normalised (lower-case e-mail, E.164 phone) first.",
    responses={
        **customer_responses(description="The customer", location_header="Content-Location"),
        **problem_responses(400, 404, 422, 500),
    },
)
def find_customer(
    email: Annotated[EmailQuery | None, documented_as(EmailQuery), Query()] = None,
    phone: Annotated[PhoneQuery | None, documented_as(PhoneQuery), Query()] = None,
) -> Response[CustomerView]:
    customer = current().service.find(email=email, phone=phone)
    _count("CustomerFound", customer.customer_id)
    return customer_response(customer, location_header="Content-Location")


@router.put(
    "/customers/<customer_id>",
    tags=TAGS,
    summary="Create a customer, or replace its attributes",
    description="Creating needs no If-Match; replacing needs the current version (428 without, 412 when stale). "
    "Consent and live state are kept.",
    responses={
        **customer_responses(description="Replaced"),
        **customer_responses(HTTPStatus.CREATED, "Created", location_header="Location"),
        **problem_responses(400, 404, 409, 412, 415, 422, 428, 500),
    },
)
def put_customer(
    customer_id: CustomerIdPath,
    attributes: Annotated[ProfileAttributes, Body()],
    if_match: IfMatchHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CustomerView]:
    body = attributes.model_dump(mode="json", exclude_none=True)
    command = WriteCommand(
        operation="put", customer_id=customer_id, if_match=if_match, body=body, idempotency_key=idempotency_key
    )
    outcome = current().writes.run(command)
    _count("CustomerCreated" if outcome.created else "CustomerReplaced", customer_id)
    if outcome.created:
        return customer_response(outcome.customer, status=HTTPStatus.CREATED, location_header="Location")
    return customer_response(outcome.customer)


@router.patch(
    "/customers/<customer_id>",
    tags=TAGS,
    summary="Change a customer's attributes with a JSON merge patch (RFC 7396)",
    description="If-Match is required (428 without, 412 when stale); `null` removes an attribute.",
    responses={
        **customer_responses(description="Changed"),
        **problem_responses(400, 404, 409, 412, 415, 422, 428, 500),
    },
)
def patch_customer(
    customer_id: CustomerIdPath,
    patch: Annotated[dict[str, Any], PATCH_SCHEMA, Body(media_type=MERGE_PATCH_JSON)],
    if_match: IfMatchHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CustomerView]:
    command = WriteCommand(
        operation="patch", customer_id=customer_id, if_match=if_match, body=patch, idempotency_key=idempotency_key
    )
    outcome = current().writes.run(command)
    _count("CustomerPatched", customer_id)
    return customer_response(outcome.customer)


@router.delete(
    "/customers/<customer_id>",
    tags=TAGS,
    summary="Erase a customer (right to be forgotten)",
    description="Removes the profile, its identity links and its live state; keeps an audit record without "
    "personal data. Erasing again answers 204 as well.",
    responses={**no_content("Erased (or already erased)"), **problem_responses(400, 404, 409, 500)},
)
def erase_customer(customer_id: CustomerIdPath) -> Response[None]:
    current().service.erase(
        customer_id, request_id=cast(APIGatewayProxyEvent, router.current_event).request_context.request_id
    )
    _count("CustomerErased", customer_id)
    return Response(status_code=int(HTTPStatus.NO_CONTENT))


def _count(metric: str, customer_id: str) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(metric, extra={"customer_id": customer_id})
