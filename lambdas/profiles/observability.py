"""Logger, metrics and tracing of the profile service.

Logs carry the route, the customer id and outcomes only: no request or response
body, no header value, no query string (they hold e-mails, phones, names and
addresses). The Tracer is created only when tracing is on: creating it loads
the X-Ray SDK, the largest part of this function's cold start (see the benchmarks).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from omni_domain.constants import ENV_SERVICE_NAME, ENV_TRACE_DISABLED, PROFILES_SERVICE

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, PROFILES_SERVICE))
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    """Tracing runs in Lambda unless switched off (Powertools' own rule, checked before paying for the SDK)."""
    env = os.environ if environ is None else environ
    disabled = resolve_truthy_env_var_choice(env=env.get(ENV_TRACE_DISABLED, "false"))
    return "LAMBDA_TASK_ROOT" in env and not disabled


def traced(handler: Handler) -> Handler:
    if not tracing_enabled():
        return handler
    # Responses carry customer data: never copy them into trace metadata.
    return Tracer().capture_lambda_handler(handler, capture_response=False, capture_error=False)
