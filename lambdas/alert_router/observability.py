"""Logger and metrics of the router: alarm name, state, team and decision only.

One metric per decision (AlertsNotified, AlertsSuppressed, AlertsResolved, OkWithoutAlert,
InsufficientData) plus AlertsToDefaultTeam when an alarm had no routing metadata or named
a team without a topic (the latter also logs a warning: the stack's config needs fixing).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from alert_router.constants import ALERT_ROUTER_SERVICE
from alert_router.router import Decision, Outcome, TeamChoice

# The service is named here, not from POWERTOOLS_SERVICE_NAME, so its logs and metric
# dimension stay "alert-router" wherever it runs; the namespace comes from the environment.
logger = Logger(service=ALERT_ROUTER_SERVICE)
metrics = Metrics(service=ALERT_ROUTER_SERVICE)

DECISION_METRICS = {
    Decision.NOTIFIED: "AlertsNotified",
    Decision.SUPPRESSED: "AlertsSuppressed",
    Decision.RESOLVED: "AlertsResolved",
    Decision.OK_WITHOUT_ALERT: "OkWithoutAlert",
    Decision.INSUFFICIENT_DATA: "InsufficientData",
}


def record(outcome: Outcome) -> None:
    metrics.add_metric(name=DECISION_METRICS[outcome.decision], unit=MetricUnit.Count, value=1)
    if outcome.team_choice is not TeamChoice.ROUTED:
        metrics.add_metric(name="AlertsToDefaultTeam", unit=MetricUnit.Count, value=1)
    if outcome.team_choice is TeamChoice.UNKNOWN_TEAM:
        logger.warning("alarm names a team without a topic; routed to the default team", extra=outcome.as_log())
    logger.info("alarm routed", extra=outcome.as_log())
