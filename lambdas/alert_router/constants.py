"""Names of the alert router shared by its stack and its runtime, defined once.

Plain values only (no boto3, no Powertools), so the CDK app can import this module.
"""

from __future__ import annotations

ALERT_ROUTER_SERVICE = "alert-router"
ALERT_ROUTER_HANDLER = "alert_router.handler.lambda_handler"

# The EventBridge rule that invokes the router (default bus): every alarm state change.
ALARM_EVENT_SOURCE = "aws.cloudwatch"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"

# JSON object: owning team -> SNS topic ARN, e.g. {"growth": "arn:aws:sns:...:alerts-growth"}.
ENV_TEAM_TOPICS = "ALERT_TEAM_TOPICS"
# The team (a key of ENV_TEAM_TOPICS) that gets alarms without routing metadata or with an unknown team.
ENV_DEFAULT_TEAM = "ALERT_DEFAULT_TEAM"
# https URL the message links to; may hold {alarm_name}, {journey}, {channel}, {region} (URL-encoded when filled).
ENV_DASHBOARD_URL = "ALERT_DASHBOARD_URL"
# DynamoDB table of notified alarms (flapping suppression and "resolved" follow-ups).
ENV_SUPPRESSION_TABLE = "ALERT_SUPPRESSION_TABLE"
# Flapping window: a repeat ALARM of the same alarm within this many minutes is not notified again.
ENV_SUPPRESSION_MINUTES = "ALERT_SUPPRESSION_MINUTES"
DEFAULT_SUPPRESSION_MINUTES = 30

# Suppression table key schema: partition key (S) and TTL attribute (N, epoch seconds).
SUPPRESSION_PARTITION_KEY = "alarm_name"
SUPPRESSION_TTL_ATTRIBUTE = "expires_at"
