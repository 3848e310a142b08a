"""Each stage-5 function starts with the environment its stack gives it.

A function reads its settings once, at cold start, and fails every invocation
when a variable is missing or malformed; synthesis cannot see that. So the
settings model of each handler validates the environment synthesized for it,
with CloudFormation references (names resolved at deploy time) stood in by
values of the right shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Template
from pydantic import BaseModel

from eligibility.contact_centre import ContactCentreSettings
from omni_domain import constants
from rescorer.settings import RescorerSettings
from state_publisher.settings import PublisherSettings

from .conftest import Synthesis

SETTINGS: dict[str, tuple[str, Callable[[Mapping[str, str]], BaseModel]]] = {
    constants.STATE_PUBLISHER_HANDLER: ("state-fanout", PublisherSettings.from_environment),
    constants.RESCORER_HANDLER: ("realtime-rescoring", RescorerSettings.from_environment),
    constants.NEXT_ACTION_HANDLER: ("next-action-contact-centre", ContactCentreSettings.from_environment),
}


def _stand_in(name: str, value: Any) -> str:
    """A deploy-time reference becomes a value of the shape the variable holds."""
    if isinstance(value, str):
        return value
    if name.endswith("_URL"):
        return "https://sqs.eu-west-2.amazonaws.com/123456789012/omni-cx-prod-queue"
    if name.endswith("_ARN"):
        return "arn:aws:sns:eu-west-2:123456789012:omni-cx-prod-topic"
    return "omni-cx-prod-resolved-name"


@pytest.mark.parametrize("handler", sorted(SETTINGS))
def test_the_synthesized_environment_is_valid_for_the_function(prod5: Synthesis, handler: str) -> None:
    capability, from_environment = SETTINGS[handler]
    functions = Template.from_json(prod5.template(capability)).find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": handler}}
    )
    (function,) = functions.values()
    variables = {
        name: _stand_in(name, value) for name, value in function["Properties"]["Environment"]["Variables"].items()
    }
    settings = from_environment(variables)
    # Every variable the stack sets is one the settings read, Powertools' own or the platform's
    # ENVIRONMENT (every function's, for its logs): none is dead configuration.
    read = {field.alias for field in type(settings).model_fields.values() if field.alias}
    common = {name for name in variables if name.startswith("POWERTOOLS_")} | {"ENVIRONMENT"}
    assert set(variables) - common <= read
