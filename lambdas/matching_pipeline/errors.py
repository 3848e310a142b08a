"""Why a pipeline step fails: an event the function cannot act on, or a service that refused a call.

Messages name the field, the call and the service's error code; the state machine catches the failure,
alerts the platform team with it and fails the execution.
"""

from __future__ import annotations


class StepInputError(ValueError):
    """The state machine sent an event this function cannot act on."""


class PipelineError(Exception):
    """Entity Resolution, Step Functions, Glue or SNS refused a call."""
