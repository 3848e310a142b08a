"""What the contact centre's in-flow eligibility lookups share (offer check, stage 4; next action, stage 5).

Connect gives a flow's Lambda 3 seconds, so the DynamoDB client makes two short
tries per call and the decision runs in-process through the eligibility
service. The product asked about is the contact centre's offer product (config
`eligibility.offer_check_product`): the flow passes only the customer id.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from pydantic import Field

from eligibility.composition import service_from_settings
from eligibility.constants import ENV_OFFER_PRODUCT
from eligibility.decisions import EligibilityService
from eligibility.rule_sets import PRODUCT_PATTERN
from eligibility.settings import DecisionSettings

DYNAMODB_CONFIG = Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 2, "mode": "standard"})


class ContactCentreSettings(DecisionSettings):
    product: str = Field(alias=ENV_OFFER_PRODUCT, pattern=PRODUCT_PATTERN)


def contact_centre_service() -> tuple[EligibilityService, str]:
    """The wired service and the product; each handler keeps its own, once per container."""
    settings = ContactCentreSettings.from_environment()
    service = service_from_settings(settings, dynamodb=boto3.client("dynamodb", config=DYNAMODB_CONFIG))
    return service, settings.product
