"""Why an invocation fails. Each one fails it, so Lambda retries the event and then its DLQ keeps it.

Messages name fields, alarms, teams and topics, never values of the event beyond those.
"""

from __future__ import annotations


class AlertRouterError(Exception):
    """Base of every failure of the router."""


class MalformedEventError(AlertRouterError):
    """The event is not a CloudWatch alarm state change of the documented shape."""


class PublishError(AlertRouterError):
    """SNS refused the message (missing topic, no permission, throttled after the SDK's retries)."""


class LedgerError(AlertRouterError):
    """The suppression table could not be read or written."""
