"""Errors a caller can cause, raised by domain code and mapped to responses in one place.

Messages never contain customer data: they are returned to callers and written to logs.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; `field` names the offending input when there is one."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFoundError(DomainError):
    """The customer (or the identifier looked up) is unknown."""


class InvalidRequestError(DomainError):
    """The request is malformed: an unreadable header or parameter."""


class ValidationFailedError(DomainError):
    """The request is well formed but breaks a rule of the customer model."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, field=field)


class PreconditionRequiredError(DomainError):
    """A write to an existing customer did not say which version it replaces."""


class VersionConflictError(DomainError):
    """The version the caller based its write on is no longer current."""


class ConflictError(DomainError):
    """The write contradicts other state: an identifier owned by another customer, an erased id."""
