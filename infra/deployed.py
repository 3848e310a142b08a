"""The stacks an environment has deployed, read from CloudFormation (`omni plan`'s view of the account).

`read_deployed_stacks` lists the account's stacks (DescribeStacks: every stack not
deleted) whose names carry the environment's prefix (`omni-cx-dev-`), leaves out
nested stacks (part of their parent's template) and those of another environment
whose name extends this one's (`omni-cx-dev-eu-` beside `omni-cx-dev-`), and reads
each one's template as it was submitted (GetTemplate, TemplateStage Original),
JSON or YAML with CloudFormation's short tags.

Credentials and region come from the caller's client (boto3's default chain); an
account that cannot be read is a `DeployedStacksError` whose message is one line
saying what to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, TokenRetrievalError
from cfnlint.decode import cfn_yaml  # YAML with !Ref, !GetAtt...: cfn-lint reads them in their long form

from infra.plan import DeployedStack

_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "RequestExpired",
    }
)
_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


class DeployedStacksError(Exception):
    """The account's stacks cannot be read: the message is one line naming what to do."""


def read_deployed_stacks(
    cloudformation: Any, *, prefix: str, other_prefixes: Iterable[str] = ()
) -> dict[str, DeployedStack]:
    """Each of the environment's deployed stacks by name, with its status and template."""
    others = tuple(other for other in other_prefixes if other.startswith(prefix) and other != prefix)
    with _account_errors("read the stacks (cloudformation:DescribeStacks)"):
        summaries = [
            stack
            for page in cloudformation.get_paginator("describe_stacks").paginate()
            for stack in page.get("Stacks", [])
            if stack["StackName"].startswith(prefix)
            and not stack["StackName"].startswith(others)
            and not stack.get("ParentId")
        ]
    stacks: dict[str, DeployedStack] = {}
    for summary in summaries:
        name = summary["StackName"]
        with _account_errors(f"read {name}'s template (cloudformation:GetTemplate)"):
            body = cloudformation.get_template(StackName=summary["StackId"], TemplateStage="Original")["TemplateBody"]
        stacks[name] = DeployedStack(name, summary["StackStatus"], parse_template_body(body, stack=name))
    return stacks


def caller_account(sts: Any) -> str:
    """The account the credentials belong to (sts:GetCallerIdentity, which needs no permission)."""
    with _account_errors("find the account of the credentials (sts:GetCallerIdentity)"):
        return str(sts.get_caller_identity()["Account"])


def parse_template_body(body: Any, *, stack: str) -> dict[str, Any]:
    """A template as GetTemplate returns it: boto3 decodes a JSON body itself; a YAML one stays a string."""
    if isinstance(body, Mapping):
        return json.loads(json.dumps(body))
    if not isinstance(body, str):
        raise DeployedStacksError(f"{stack}: GetTemplate returned no template body")
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        try:
            document = cfn_yaml.loads(body)
        except Exception as error:  # noqa: BLE001 - the parser raises several kinds; all mean the same here
            raise DeployedStacksError(f"{stack}: its deployed template is neither JSON nor YAML ({error})") from None
        document = json.loads(json.dumps(document))  # cfn-lint's nodes (dicts with line marks) to plain values
    if not isinstance(document, dict):
        raise DeployedStacksError(f"{stack}: its deployed template is not an object")
    return document


@contextmanager
def _account_errors(doing: str) -> Iterator[None]:
    """Turns what boto3 raises when an account cannot be reached or read into one line."""
    try:
        yield
    except (NoCredentialsError, TokenRetrievalError):
        raise DeployedStacksError(
            f"no AWS credentials to {doing}: set AWS_PROFILE (and run aws sso login) or the AWS_* variables"
        ) from None
    except NoRegionError:
        raise DeployedStacksError(f"no region to {doing}: give the environment a region in cdk.json") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in _CREDENTIAL_CODES:
            raise DeployedStacksError(
                f"the AWS credentials were refused ({code}) trying to {doing}: renew them (aws sso login)"
            ) from None
        if code in _DENIED_CODES:
            raise DeployedStacksError(
                f"access denied trying to {doing}: the role needs cloudformation:DescribeStacks and "
                "cloudformation:GetTemplate (the CDK bootstrap's read-only lookup role has both)"
            ) from None
        raise DeployedStacksError(f"could not {doing}: {code}: {message}") from None
    except BotoCoreError as error:  # unreachable endpoint, timeouts, a profile that does not exist
        raise DeployedStacksError(f"could not {doing}: {error}") from None
