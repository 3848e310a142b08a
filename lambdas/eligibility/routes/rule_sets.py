"""`/rule-sets/{version}`: store (validated, immutable), read and activate rule sets."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from eligibility.dependencies import current
from eligibility.observability import logger, metrics
from eligibility.problems import problem_responses
from eligibility.routes.parameters import VersionPath
from eligibility.rule_sets import RuleSet, RuleSetDocument
from rest_api.openapi import header, success

router = Router()
TAGS = ["rule sets"]


class ActivationView(BaseModel):
    active_version: str
    previous_version: str | None
    activated_at: datetime


@router.put(
    "/rule-sets/<version>",
    tags=TAGS,
    summary="Store a rule set under a new version",
    description="Checked first: an unknown attribute, an operator that does not apply or a value of the wrong type "
    "is a 422 naming the field. Versions never change: storing the same rules again answers 200, other rules "
    "under a stored version 409. Storing does not activate.",
    responses={
        **success(201, RuleSet, "Stored", headers={"Location": header("the rule set's URL: /rule-sets/{version}")}),
        **success(200, RuleSet, "Already stored with the same rules"),
        **problem_responses(400, 404, 409, 415, 422, 500),
    },
)
def put_rule_set(version: VersionPath, document: Annotated[RuleSetDocument, Body()]) -> Response[RuleSet]:
    created = current().service.put_rule_set(version, document)
    _count("RuleSetStored" if created else "RuleSetUnchanged", version)
    return Response(
        status_code=int(HTTPStatus.CREATED if created else HTTPStatus.OK),
        content_type=content_types.APPLICATION_JSON,
        body=RuleSet(version=version, document=document),
        headers={"Location": f"/rule-sets/{version}"} if created else None,
    )


@router.get(
    "/rule-sets/<version>",
    tags=TAGS,
    summary="A stored rule set",
    responses={**success(200, RuleSet, "The rule set"), **problem_responses(400, 404, 500)},
)
def get_rule_set(version: VersionPath) -> RuleSet:
    return current().service.get_rule_set(version)


@router.put(
    "/rule-sets/<version>/activate",
    tags=TAGS,
    summary="Make a stored rule set the one decisions use",
    description="Atomic: the version must be stored, and the pointer changes only if no other activation "
    "happened meanwhile (409: retry). Activating the previous version again is the rollback.",
    responses={**success(200, ActivationView, "Active"), **problem_responses(400, 404, 409, 500)},
)
def activate_rule_set(version: VersionPath) -> ActivationView:
    active = current().service.activate(version)
    _count("RuleSetActivated", version)
    return ActivationView(
        active_version=active.version, previous_version=active.previous_version, activated_at=active.activated_at
    )


def _count(metric: str, version: str) -> None:
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    logger.info(metric, extra={"rule_set_version": version})
