"""Successful answers: a customer as JSON with its version as the ETag, and how the OpenAPI document shows them."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from omni_domain.models import CustomerView
from profiles.preconditions import etag
from rest_api.openapi import header, success

ETAG = header(
    'the customer\'s version as a strong ETag ("3"): send it as If-Match to change the customer', pattern=r'^"[0-9]+"$'
)


def customer_responses(
    status: int = HTTPStatus.OK,
    description: str = "The customer and its live state",
    *,
    location_header: str | None = None,
) -> dict[int, OpenAPIResponse]:
    """The OpenAPI entry of an answer made by `customer_response` with the same status and location header."""
    headers = {"ETag": ETAG}
    if location_header:
        headers[location_header] = header("the customer's URL: /customers/{customer_id}")
    return success(status, CustomerView, description, headers=headers)


def customer_location(customer_id: str) -> str:
    return f"/customers/{customer_id}"


def customer_response(
    customer: CustomerView, *, status: HTTPStatus = HTTPStatus.OK, location_header: str | None = None
) -> Response[CustomerView]:
    headers = {"ETag": etag(customer.version)}
    if location_header:
        headers[location_header] = customer_location(customer.customer_id)
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=customer,
        headers=headers,
    )
