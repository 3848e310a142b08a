"""The eligibility API's error answers: the shared problem+json mapping plus this API's own domain errors."""

from __future__ import annotations

from http import HTTPStatus

from eligibility.decisions import NoActiveRuleSetError
from eligibility.observability import logger, metrics
from rest_api.problems import PROBLEM_JSON, Problem, Problems, problem_responses

problems = Problems(
    logger=logger,
    metrics=metrics,
    domain_problems={NoActiveRuleSetError: (HTTPStatus.CONFLICT, "no-active-rule-set")},
    media_types="application/json",
)
problem_response = problems.response
register_problem_handlers = problems.register

__all__ = ["PROBLEM_JSON", "Problem", "problem_response", "problem_responses", "register_problem_handlers"]
