"""Successful answers: a customer as JSON with its version as the ETag."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import content_types

from omni_domain.models import CustomerView
from profiles.preconditions import etag


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
