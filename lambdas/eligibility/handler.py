"""Lambda entry point of the eligibility API (API Gateway REST, proxy integration)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from eligibility.dependencies import current
from eligibility.observability import logger, metrics, traced
from eligibility.problems import register_problem_handlers
from eligibility.routes import eligibility, next_action, rule_sets
from rest_api.media_types import json_bodies_only

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(eligibility.router)
app.include_router(rule_sets.router)
app.include_router(next_action.router)
register_problem_handlers(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    current().decisions.register(context)
    return app.resolve(json_bodies_only(event), context)
