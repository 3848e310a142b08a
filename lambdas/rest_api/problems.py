"""Every error answer of a platform REST API, as `application/problem+json` (RFC 9457).

One `Problems` per API maps its domain errors, request validation, idempotency and
unexpected failures to problem answers in one place. Caller mistakes are 4xx with
the offending field; anything else is a 500 problem without detail (logged without
its message, which may hold customer data).
"""

from __future__ import annotations

import base64
import binascii
import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel, Field

from omni_domain.errors import (
    ConflictError,
    DomainError,
    InvalidRequestError,
    NotFoundError,
    ValidationFailedError,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:omni-cx:problem:"
IDEMPOTENCY_KEY = "Idempotency-Key"
_LOGGED_FRAMES = 6  # the innermost frames say where it failed; the outer ones are the resolver's

# Domain error class -> (status, problem type) every API shares; a subclass answers as its nearest mapped base.
COMMON_DOMAIN_PROBLEMS: Mapping[type[Exception], tuple[HTTPStatus, str]] = {
    InvalidRequestError: (HTTPStatus.BAD_REQUEST, "bad-request"),
    NotFoundError: (HTTPStatus.NOT_FOUND, "not-found"),
    ConflictError: (HTTPStatus.CONFLICT, "conflict"),
    ValidationFailedError: (HTTPStatus.UNPROCESSABLE_ENTITY, "validation-failed"),
}


class Problem(BaseModel):
    type: str = Field(description="a URN naming the kind of problem; stable, safe to branch on")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    field: str | None = Field(default=None, description="the offending body member, parameter or header")


def problem_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` entries for the problems a route can answer."""
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {PROBLEM_JSON: {"model": Problem}}}
        for status in statuses
    }


class Problems:
    """The problem answers of one API, logged and counted with its own logger and metrics."""

    def __init__(
        self,
        *,
        logger: Logger,
        metrics: Metrics,
        domain_problems: Mapping[type[Exception], tuple[HTTPStatus, str]],
        media_types: str,
    ) -> None:
        self._logger = logger
        self._metrics = metrics
        self._domain = {**COMMON_DOMAIN_PROBLEMS, **domain_problems}
        self._media_types = media_types

    def response(self, status: HTTPStatus, slug: str, detail: str, field: str | None = None) -> Response[str]:
        problem = Problem(
            type=PROBLEM_TYPE_PREFIX + slug, title=status.phrase, status=status, detail=detail, field=field
        )
        self._logger.info("request refused", extra={"status": int(status), "problem": slug, "field": field})
        self._metrics.add_metric(name=f"Problem{int(status)}", unit=MetricUnit.Count, value=1)
        return Response(
            status_code=int(status), content_type=PROBLEM_JSON, body=problem.model_dump_json(exclude_none=True)
        )

    def request_problem(self, errors: Sequence[Any]) -> Response[str]:
        """Request validation: unreadable JSON and bad parameters are 400, a body breaking the schema 422."""
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request", "type": "invalid"}
        where, *path = first.get("loc") or ("body",)
        field = ".".join(str(part) for part in path) or str(where)
        message = str(first.get("msg", "invalid request"))
        if first.get("type") == "json_invalid":
            return self.response(HTTPStatus.BAD_REQUEST, "malformed-json", "the body is not valid JSON", "body")
        if where == "body":
            return self.response(HTTPStatus.UNPROCESSABLE_ENTITY, "validation-failed", message, field)
        return self.response(HTTPStatus.BAD_REQUEST, "bad-request", f"{where} parameter: {message}", field)

    def domain_problem(self, error: DomainError) -> Response[str]:
        status, slug = next(
            (self._domain[kind] for kind in type(error).__mro__ if kind in self._domain),
            (HTTPStatus.BAD_REQUEST, "bad-request"),
        )
        return self.response(status, slug, error.detail, error.field)

    def register(self, app: APIGatewayRestResolver) -> None:
        """Map every error `app` can meet to its problem answer."""
        app.exception_handler(DomainError)(self.domain_problem)
        # Powertools decodes the body when a route reads it: bytes that are not UTF-8 (API Gateway passes a
        # binary body base64-encoded) or a broken base64 body raise there, and are the caller's mistake.
        app.exception_handler([UnicodeError, binascii.Error])(
            lambda error: self.unreadable_body(
                error, app.current_event.body, is_base64_encoded=bool(app.current_event.is_base64_encoded)
            )
        )
        app.exception_handler(RequestValidationError)(lambda error: self.request_problem(error.errors()))
        app.exception_handler(RequestUnsupportedContentType)(
            lambda _: self.response(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", f"send {self._media_types}", "Content-Type"
            )
        )
        app.exception_handler(IdempotencyValidationError)(
            lambda _: self.response(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "this Idempotency-Key was used for a different request",
                IDEMPOTENCY_KEY,
            )
        )
        app.exception_handler(IdempotencyAlreadyInProgressError)(
            lambda _: self.response(
                HTTPStatus.CONFLICT,
                "request-in-progress",
                "a request with this Idempotency-Key is still being processed: retry later",
                IDEMPOTENCY_KEY,
            )
        )
        app.not_found(
            lambda _: self.response(HTTPStatus.NOT_FOUND, "no-such-route", "no such resource or method on this API")
        )
        app.exception_handler(Exception)(self.unexpected)

    def unreadable_body(self, error: Exception, body: str | None, *, is_base64_encoded: bool) -> Response[str]:
        """400 when the request's body cannot be read as text; any other decoding error is ours (500)."""
        if body_is_text(body, is_base64_encoded=is_base64_encoded):
            return self.unexpected(error)
        return self.response(
            HTTPStatus.BAD_REQUEST,
            "unreadable-body",
            "the body is not UTF-8 text: send JSON encoded as UTF-8",
            "body",
        )

    def unexpected(self, error: Exception) -> Response[str]:
        # The traceback's frames, not the exception's message: messages can quote customer data.
        self._logger.error(
            "unexpected error",
            extra={
                "error_type": type(error).__name__,
                "frames": traceback.format_tb(error.__traceback__)[-_LOGGED_FRAMES:],
            },
        )
        self._metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
        problem = Problem(
            type=PROBLEM_TYPE_PREFIX + "internal-error",
            title=HTTPStatus.INTERNAL_SERVER_ERROR.phrase,
            status=HTTPStatus.INTERNAL_SERVER_ERROR,
            detail="the request could not be completed; it is safe to retry (with the same Idempotency-Key)",
        )
        return Response(
            status_code=int(HTTPStatus.INTERNAL_SERVER_ERROR),
            content_type=PROBLEM_JSON,
            body=problem.model_dump_json(exclude_none=True),
        )


def body_is_text(body: str | None, *, is_base64_encoded: bool) -> bool:
    """Whether a proxy event's body reads as UTF-8 text, decoded as Powertools decodes it."""
    if not body:
        return True
    try:
        raw = base64.b64decode(body.encode()) if is_base64_encoded else body.encode()
        raw.decode()
    except (UnicodeError, binascii.Error):
        return False
    return True
