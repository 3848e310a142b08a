"""cdk-nag 3 wiring: the rule packs the platform is held to, and acknowledgements.

An acknowledgement is always placed on the construct that raises the finding,
with the narrowest finding id and a reason that is true for that resource.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

RULE_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks)


def enable_compliance_checks(app: App) -> None:
    """Every stack of the app is checked by the four packs at synthesis."""
    Validations.of(app).add_plugins(*(pack(app) for pack in RULE_PACKS))


def acknowledge(construct: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge (finding id, reason) pairs on this construct and its children."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=finding, reason=reason) for finding, reason in findings))
