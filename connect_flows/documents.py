"""Reading a flow file in any of the shapes admins bring: a bare flow, an API wrapper, or a module.

Besides a bare flow-language document (`{"Version", "StartAction", "Actions", ...}`),
files come as the API returns or takes them: `DescribeContactFlow`'s
`{"ContactFlow": {"Type", "Content": "<json string>", ...}}`,
`DescribeContactFlowModule`'s `{"ContactFlowModule": {...}}`, or the
`{"Name", "Type", "Content", ...}` input of `CreateContactFlow` (without `Type`:
`CreateContactFlowModule`). A wrapper names the flow type, so a file can be checked
against its type without a manifest. Files from the designer that predates the
flow language (`{"modules": [...], "version": "1"}`) are named as such: Connect
no longer imports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from connect_flows.action_rules import FLOW_TYPES, MODULE, FlowKind


class FlowFileError(ValueError):
    """The file is not a flow document the tooling can read; the message says why, for an admin."""


@dataclass(frozen=True)
class FlowFile:
    document: Any
    flow_type: FlowKind | None  # from the wrapper, when the file has one
    wrapper: str | None = None  # which wrapper the document came in, if any


LEGACY = (
    "this is a flow from the old flow designer (a list of 'modules', version 1); Amazon Connect no longer "
    "imports that format: open the flow in the current designer and export it again"
)


def _content(holder: dict[str, Any], where: str) -> Any:
    content = holder.get("Content")
    if isinstance(content, dict):
        return content
    if not isinstance(content, str):
        raise FlowFileError(f"{where}Content must be the flow as a JSON string (or object)")
    try:
        return json.loads(content)
    except json.JSONDecodeError as error:
        raise FlowFileError(f"{where}Content is not valid JSON: {error}") from None


def _flow_type(value: Any, where: str) -> FlowKind:
    if value not in FLOW_TYPES:
        raise FlowFileError(f"{where}Type {value!r} is not a flow type (expected one of {', '.join(FLOW_TYPES)})")
    return cast(FlowKind, value)


def unwrap(data: Any) -> FlowFile:
    """The flow document inside `data`, with the flow type its wrapper names."""
    if not isinstance(data, dict):
        return FlowFile(data, None)
    if isinstance(data.get("modules"), list) and "Actions" not in data:
        raise FlowFileError(LEGACY)
    if isinstance(data.get("ContactFlow"), dict):
        inner = data["ContactFlow"]
        return FlowFile(_content(inner, "ContactFlow."), _flow_type(inner.get("Type"), "ContactFlow."), "ContactFlow")
    if isinstance(data.get("ContactFlowModule"), dict):
        return FlowFile(_content(data["ContactFlowModule"], "ContactFlowModule."), MODULE, "ContactFlowModule")
    if "Content" in data and "Actions" not in data:
        if "Type" in data:
            return FlowFile(_content(data, ""), _flow_type(data["Type"], ""), "CreateContactFlow")
        return FlowFile(_content(data, ""), MODULE, "CreateContactFlowModule")
    return FlowFile(data, None)


def read_flow_file(path: Path) -> FlowFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlowFileError(f"cannot read: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FlowFileError(f"not valid JSON: {error}") from None
    return unwrap(data)


def looks_like_module(document: Any) -> bool:
    """Only flow modules have top-level `Settings` (their inputs, outputs and branches)."""
    return isinstance(document, dict) and isinstance(document.get("Settings"), dict)
