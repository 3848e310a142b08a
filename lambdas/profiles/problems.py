"""The profile API's error answers: the shared problem+json mapping plus this API's own domain errors."""

from __future__ import annotations

from http import HTTPStatus

from omni_domain.errors import PreconditionRequiredError, VersionConflictError
from profiles.observability import logger, metrics
from rest_api.problems import PROBLEM_JSON, Problem, Problems, problem_responses

problems = Problems(
    logger=logger,
    metrics=metrics,
    domain_problems={
        VersionConflictError: (HTTPStatus.PRECONDITION_FAILED, "version-conflict"),
        PreconditionRequiredError: (HTTPStatus.PRECONDITION_REQUIRED, "precondition-required"),
    },
    media_types="application/json (or application/merge-patch+json for PATCH)",
)
problem_response = problems.response
register_problem_handlers = problems.register

__all__ = ["PROBLEM_JSON", "Problem", "problem_response", "problem_responses", "register_problem_handlers"]
