"""Lambda entry point of the customer-profile API (API Gateway REST, proxy integration)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from profiles.dependencies import current
from profiles.media_types import merge_patch_as_json
from profiles.observability import logger, metrics, traced
from profiles.problems import register_problem_handlers
from profiles.routes import consent, customers
from rest_api.media_types import json_bodies_only

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(customers.router)
app.include_router(consent.router)
register_problem_handlers(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    current().writes.register(context)
    return app.resolve(json_bodies_only(merge_patch_as_json(event)), context)
