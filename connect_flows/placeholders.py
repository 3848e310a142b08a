"""Resource placeholders in source flows, and the walk over a flow's string values.

A source flow never holds an ARN: every resource reference is a whole-value
placeholder `${kind:logical_name}` (for example `${queue:general_support}`), so the
same file deploys to any instance. The kinds are the resources a flow can point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

Kind = Literal["lambda", "queue", "hours", "prompt", "flow", "module"]
KINDS: tuple[Kind, ...] = ("lambda", "queue", "hours", "prompt", "flow", "module")

# Logical names follow the config's queue keys (`general_support`): lower snake case.
_NAME = r"[a-z][a-z0-9_]{0,62}"
PLACEHOLDER_PATTERN = re.compile(rf"^\$\{{({'|'.join(KINDS)}):({_NAME})\}}$")

# Any AWS ARN, in any partition; used to refuse literal ARNs in source flows.
ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:")

# Parameters that hold a resource reference (ARN, ID, or one JSONPath, as a whole
# value), with the placeholder kind each accepts; None: no placeholder kind exists.
# "*" matches any key (an event hook's name); PromptId also appears in message lists.
REFERENCE_FIELDS: dict[tuple[str, ...], Kind | None] = {
    ("QueueId",): "queue",
    ("AgentId",): None,
    ("HoursOfOperationId",): "hours",
    ("LambdaFunctionARN",): "lambda",
    ("PromptId",): "prompt",
    ("Messages", "*", "PromptId"): "prompt",
    ("ContactFlowId",): "flow",
    ("EventHooks", "*"): "flow",
    ("FlowModuleId",): "module",
    ("LexV2Bot", "AliasArn"): None,
}


def reference_field(parameter_path: tuple[str | int, ...]) -> tuple[bool, Kind | None]:
    """(is a resource reference, the placeholder kind it takes) for a path inside `Parameters`."""
    for pattern, kind in REFERENCE_FIELDS.items():
        if len(pattern) == len(parameter_path) and all(
            expected == "*" or expected == str(part) for expected, part in zip(pattern, parameter_path, strict=True)
        ):
            return True, kind
    return False, None


@dataclass(frozen=True, order=True)
class Placeholder:
    kind: Kind
    name: str

    def __str__(self) -> str:
        return f"${{{self.kind}:{self.name}}}"


def parse_placeholder(value: str) -> Placeholder | None:
    """The placeholder a whole value spells, or None if the value is not one."""
    match = PLACEHOLDER_PATTERN.match(value)
    if match is None:
        return None
    return Placeholder(cast(Kind, match.group(1)), match.group(2))


def mentions_placeholder(value: str) -> bool:
    """True for anything that tries to be a placeholder, well-formed or not."""
    return "${" in value


def is_jsonpath(value: str) -> bool:
    """A single JSONPath reference such as `$.Attributes.queue` (dynamic reference)."""
    return re.fullmatch(r"\$\.[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+)*", value) is not None


def format_path(parts: tuple[str | int, ...]) -> str:
    """`("Actions", 3, "Parameters", "QueueId")` -> `Actions[3].Parameters.QueueId`, the service's style."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def walk_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in a JSON value with its path, keys before values, in document order."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, (*path, index))


def placeholders_in(flow_doc: dict[str, Any]) -> set[Placeholder]:
    """The placeholders a flow's action parameters and its designer metadata use.

    Metadata holds a placeholder where an export found an ARN there (the designer
    keeps the prompt or flow a block shows), so rendering must fill those too.
    """
    found = set()
    strings = list(walk_strings(flow_doc.get("Metadata", {})))
    for action in flow_doc.get("Actions", []):
        if isinstance(action, dict):
            strings += walk_strings(action.get("Parameters", {}))
    for _, value in strings:
        placeholder = parse_placeholder(value)
        if placeholder is not None:
            found.add(placeholder)
    return found
