"""cdk-nag 3 wiring: the rule packs the platform is held to, and acknowledgements.

An acknowledgement is always placed on the construct that raises the finding,
with the narrowest finding id and a reason that is true for that resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_cdk import Acknowledgment, Stack, Stage, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

RULE_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks)

# While an audit runs, acknowledgements are recorded as (construct path, finding id) instead of applied.
_audit: list[tuple[str, str]] | None = None


@contextmanager
def acknowledgement_audit() -> Iterator[list[tuple[str, str]]]:
    """Record acknowledgements without applying them, so a synthesis shows the findings each one covers.

    Proves that no acknowledgement outlives its finding (tests/infra/test_acknowledgements.py).
    """
    global _audit  # noqa: PLW0603 - one switch for the whole synthesis
    _audit = []
    try:
        yield _audit
    finally:
        _audit = None


def enable_compliance_checks(app: Stage) -> None:
    """Every stack of the app (or of a stage nested in it) is checked by the four packs at synthesis."""
    Validations.of(app).add_plugins(*(pack(app) for pack in RULE_PACKS))


def acknowledge(construct: IConstruct, *findings: tuple[str, str]) -> None:
    """Acknowledge (finding id, reason) pairs on this construct and its children."""
    if _audit is not None:
        _audit.extend((construct.node.path, finding) for finding, _reason in findings)
        return
    Validations.of(construct).acknowledge(*(Acknowledgment(id=finding, reason=reason) for finding, reason in findings))


def acknowledge_grant_policy(role: IConstruct) -> None:
    """The HIPAA/NIST/PCI packs count a role's AWS::IAM::Policy as inline: say why it is one."""
    reason = (
        "The role's only policy is the one CDK grant_* calls write, each statement scoped to the resources "
        "it is granted on; it belongs to this one role and is not shared, so a managed policy would add reuse, not safety."
    )
    acknowledge(
        role,
        ("HIPAA.Security-IAMNoInlinePolicy", reason),
        ("NIST.800.53.R5-IAMNoInlinePolicy", reason),
        ("PCI.DSS.321-IAMNoInlinePolicy", reason),
    )


def acknowledge_event_source_kms(role: IConstruct, *, encrypted: str = "on-failure queue") -> None:
    """A stream event source with an encrypted on-failure destination: CDK grants KMS action wildcards."""
    acknowledge(
        role,
        (
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            f"Granted by the CDK event source for the encrypted {encrypted}, on the platform key only.",
        ),
        (
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "Granted by the CDK event source for the encrypted on-failure queue, on the platform key only.",
        ),
    )


def wildcard_resource_finding(scope: IConstruct, resource: str) -> str:
    """The exact AwsSolutions-IAM5 finding id for a wildcard resource, rendered as cdk-nag prints it
    (Ref X as <X>, GetAtt as <A.B>, joins flattened), so it can be acknowledged narrowly."""
    return f"AwsSolutions-IAM5[Resource::{_as_nag_prints(Stack.of(scope).resolve(resource))}]"


def _as_nag_prints(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Join":
            return str(argument[0]).join(_as_nag_prints(part) for part in argument[1])
    return json.dumps(value, separators=(",", ":"))
