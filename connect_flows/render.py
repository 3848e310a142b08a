"""Render a source flow for one target (placeholders -> values) and export it back (ARNs -> placeholders).

The resolver is a mapping `(kind, logical_name) -> value`. At deploy time the values
are CDK tokens (the stack's `flow_resources`), so the rendered document must be
serialised with `Stack.to_json_string`; for admins they are the ARNs of a target
instance. Both directions fail loudly: a flow with a hole in it must never reach
an instance, and an ARN that no placeholder names must never reach git.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connect_flows.placeholders import (
    ARN_PATTERN,
    Placeholder,
    format_path,
    mentions_placeholder,
    parse_placeholder,
)

Resolver = Mapping[tuple[str, str], str]
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Unresolved:
    path: str
    value: str

    def __str__(self) -> str:
        placeholder = parse_placeholder(self.value)
        if placeholder is None:
            return f"{self.path}: {self.value!r} is not a placeholder (expected ${{kind:name}})"
        return f"{self.path}: no value for {placeholder}"


class UnresolvedPlaceholderError(ValueError):
    """Rendering found placeholders the resolver has no value for."""

    def __init__(self, unresolved: list[Unresolved]) -> None:
        self.unresolved = tuple(unresolved)
        super().__init__("unresolved placeholders:\n" + "\n".join(f"  {item}" for item in self.unresolved))


@dataclass(frozen=True)
class UnknownArn:
    path: str
    arn: str

    def __str__(self) -> str:
        return f"{self.path}: unknown ARN {self.arn}"


class UnknownArnError(ValueError):
    """Export found ARNs that match no known resource, so it cannot name them."""

    def __init__(self, unknown: list[UnknownArn]) -> None:
        self.unknown = tuple(unknown)
        super().__init__("ARNs with no placeholder:\n" + "\n".join(f"  {item}" for item in self.unknown))


def _transform(value: Any, path: Path, change: Callable[[Path, str], str]) -> Any:
    if isinstance(value, str):
        return change(path, value)
    if isinstance(value, dict):
        return {key: _transform(item, (*path, key), change) for key, item in value.items()}
    if isinstance(value, list):
        return [_transform(item, (*path, index), change) for index, item in enumerate(value)]
    return value


def render(flow_doc: Mapping[str, Any], resolver: Resolver) -> dict[str, Any]:
    """A copy of the flow with every placeholder in action parameters and designer metadata replaced by its value.

    Metadata is rendered too because export turns the ARNs it finds there into
    placeholders: rendering an exported flow gives back the flow the instance held.
    """
    unresolved: list[Unresolved] = []

    def resolve(path: Path, value: str) -> str:
        if not mentions_placeholder(value):
            return value
        placeholder = parse_placeholder(value)
        if placeholder is not None and (placeholder.kind, placeholder.name) in resolver:
            return resolver[placeholder.kind, placeholder.name]
        unresolved.append(Unresolved(format_path(path), value))
        return value

    rendered = copy.deepcopy(dict(flow_doc))
    if isinstance(rendered.get("Metadata"), dict):
        rendered["Metadata"] = _transform(rendered["Metadata"], ("Metadata",), resolve)
    actions = rendered.get("Actions", [])
    for index, action in enumerate(actions):
        if isinstance(action, dict) and "Parameters" in action:
            action["Parameters"] = _transform(action["Parameters"], ("Actions", index, "Parameters"), resolve)
    if unresolved:
        raise UnresolvedPlaceholderError(unresolved)
    return rendered


def export(flow_doc: Mapping[str, Any], known: Mapping[str, Placeholder]) -> dict[str, Any]:
    """A copy of a rendered flow with every known ARN turned back into its placeholder.

    The whole document is searched (actions and designer metadata): any ARN left
    over is an error, because it would tie the source file to one instance.
    """
    unknown: list[UnknownArn] = []

    def name(path: Path, value: str) -> str:
        if value in known:
            return str(known[value])
        if ARN_PATTERN.search(value):
            unknown.append(UnknownArn(format_path(path), value))
        return value

    exported: dict[str, Any] = _transform(dict(flow_doc), (), name)
    if unknown:
        raise UnknownArnError(unknown)
    return exported


def invert(resolver: Resolver) -> dict[str, Placeholder]:
    """value -> placeholder, for exporting what `resolver` rendered; refuses values two placeholders share."""
    known: dict[str, Placeholder] = {}
    for (kind, name), value in resolver.items():
        placeholder = parse_placeholder(f"${{{kind}:{name}}}")
        if placeholder is None:
            raise ValueError(f"({kind!r}, {name!r}) is not a valid placeholder kind and name")
        if value in known and known[value] != placeholder:
            raise ValueError(f"{value} is the value of both {known[value]} and {placeholder}")
        known[value] = placeholder
    return known
