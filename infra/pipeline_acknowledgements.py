"""cdk-nag acknowledgements for what CDK Pipelines generates inside the delivery pipeline.

CDK Pipelines creates its CodeBuild projects and their roles' policies itself, when the pipeline is built,
so their findings cannot be fixed at the call site. Each finding is acknowledged on the construct that
raises it, from what that construct actually holds: every wildcard of a policy must match one of the
patterns below (each with the reason it is safe), and an unknown one stops synthesis, so a CDK upgrade
that widens a grant is read by a person before it deploys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from infra.constructs.compliance import acknowledge, wildcard_resource_finding

SOURCE_IS_THE_PIPELINE = (
    "The project's source is the pipeline's artifact (source type CODEPIPELINE): it reads no repository and "
    "holds no repository credentials; the pipeline's source action authenticates to the repository."
)
INLINE_POLICY = (
    "CDK Pipelines writes this policy for its one role, each statement scoped to the resources the step uses; "
    "it is not shared, so a managed policy would add reuse, not safety."
)
_S3_FAMILIES = r"s3:(GetBucket|GetObject|List|DeleteObject|Abort|PutObject)\*"

# (what the wildcard looks like as cdk-nag prints it, why it is safe). Actions are checked with the statement's
# resources (an action family on "*" matches none of these).
ACTION_WILDCARDS: tuple[tuple[str, str], ...] = (
    (
        _S3_FAMILIES,
        "S3 action families CDK grants for reading (and, for the build steps, writing) pipeline artifacts, on "
        "the named bucket and its objects only.",
    ),
    (
        r"kms:(GenerateDataKey|ReEncrypt)\*",
        "Key-use action families CDK grants with artifact access, on the pipeline's artifact key only.",
    ),
)
RESOURCE_WILDCARDS: tuple[tuple[str, str], ...] = (
    (r"<[A-Za-z0-9]+\.Arn>/\*", "The objects of the pipeline's artifact bucket (or its source bucket)."),
    (r"arn:aws:s3:::[a-z0-9.-]+/\*", "The objects of the pipeline's source bucket."),
    (
        r"arn:aws[a-z-]*:logs:[a-z0-9-]+:(<AWS::AccountId>|\d{12}):log-group:/aws/codebuild/(<[A-Za-z0-9]+>:)?\*",
        "Log streams CodeBuild creates at run time in the project's log group (the asset projects share one "
        "role, hence their common /aws/codebuild/ prefix), in this account and region.",
    ),
    (
        r"arn:aws[a-z-]*:codebuild:[a-z0-9-]+:(<AWS::AccountId>|\d{12}):report-group/(<[A-Za-z0-9]+>-)?\*",
        "Test report groups CodeBuild names after the project at run time, in this account and region.",
    ),
    (
        r"arn:\*:iam::(<AWS::AccountId>|\d{12}):role/\*",
        "Only the CDK bootstrap roles can be assumed: the statement requires the iam:ResourceTag/"
        "aws-cdk:bootstrap-role tag (deploy, file-publishing, image-publishing) that cdk bootstrap sets.",
    ),
    (
        r"\*",
        "CDK Pipelines' own calls that take no narrower resource in its grant: the self-mutation's "
        "cloudformation:DescribeStacks and s3:ListBucket (cdk deploy checks the stack and the bootstrap bucket), "
        "the asset step's codebuild:StartBuild/BatchGetBuilds/StopBuild on the projects it starts.",
    ),
)
# The only actions a bare "*" resource is accepted for (the last pattern above).
ACTIONS_ON_ANY_RESOURCE = frozenset(
    {
        "cloudformation:DescribeStacks",
        "s3:ListBucket",
        "codebuild:BatchGetBuilds",
        "codebuild:StartBuild",
        "codebuild:StopBuild",
    }
)


class UnreviewedWildcardError(TypeError):
    """A policy CDK Pipelines generated holds a wildcard no reason here covers."""


def acknowledge_pipeline_findings(pipeline: Construct) -> None:
    """Acknowledge the findings of the projects and policies generated under the (built) pipeline construct,
    each on its own construct. The environments' stages are not under it: their stacks keep their own."""
    pipeline_stack = Stack.of(pipeline)
    for construct in pipeline.node.find_all():
        if isinstance(construct, codebuild.CfnProject):
            _acknowledge_project(pipeline_stack, construct)
        elif isinstance(construct, iam.CfnPolicy):
            _acknowledge_policy(pipeline_stack, construct)


def _acknowledge_project(stack: Stack, project: codebuild.CfnProject) -> None:
    source = stack.resolve(project.source)
    if source.get("type") != "CODEPIPELINE":
        raise UnreviewedWildcardError(f"{project.node.path}: a CodeBuild source of type {source.get('type')}")
    acknowledge(
        project,
        ("HIPAA.Security-CodeBuildProjectSourceRepoUrl", SOURCE_IS_THE_PIPELINE),
        ("PCI.DSS.321-CodeBuildProjectSourceRepoUrl", SOURCE_IS_THE_PIPELINE),
    )


def _acknowledge_policy(stack: Stack, policy: iam.CfnPolicy) -> None:
    findings = {
        "HIPAA.Security-IAMNoInlinePolicy": INLINE_POLICY,
        "NIST.800.53.R5-IAMNoInlinePolicy": INLINE_POLICY,
        "PCI.DSS.321-IAMNoInlinePolicy": INLINE_POLICY,
    }
    for finding, reason in _wildcard_findings(stack, policy):
        findings[finding] = reason
    acknowledge(policy, *findings.items())


def _wildcard_findings(stack: Stack, policy: iam.CfnPolicy) -> Iterator[tuple[str, str]]:
    for statement in _as_list(stack.resolve(policy.policy_document).get("Statement")):
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        printed = [wildcard_resource_finding(policy, resource) for resource in resources]
        on_anything = "AwsSolutions-IAM5[Resource::*]" in printed
        if on_anything and not set(actions) <= ACTIONS_ON_ANY_RESOURCE:
            raise UnreviewedWildcardError(f"{policy.node.path}: {sorted(actions)} on every resource")
        for action in actions:
            if "*" in action:
                yield f"AwsSolutions-IAM5[Action::{action}]", _reason(ACTION_WILDCARDS, action, policy, on_anything)
        for finding in printed:
            resource = finding.removeprefix("AwsSolutions-IAM5[Resource::").removesuffix("]")
            if "*" in resource:
                yield finding, _reason(RESOURCE_WILDCARDS, resource, policy, False)


def _reason(table: tuple[tuple[str, str], ...], wildcard: str, policy: IConstruct, on_anything: bool) -> str:
    for pattern, reason in table:
        if re.fullmatch(pattern, wildcard) and not on_anything:
            return reason
    raise UnreviewedWildcardError(
        f"{policy.node.path}: {wildcard!r} has no reviewed reason in infra/pipeline_acknowledgements.py"
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
