"""A resource map: which ARN each placeholder stands for in one instance, as a JSON file.

`{"queue": {"general_support": "arn:aws:connect:...:queue/..."}, "lambda": {...}, ...}`:
kinds as in `${kind:name}`, names the placeholders' logical names. `omni flows
export --resources FILE` writes the map of the instance it reads from, and
`omni flows render --resources FILE` renders from such a map, so a flow can be
made ready for console import without credentials for the instance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from connect_flows.placeholders import Kind, Placeholder

LogicalName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Arn = Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S+$", max_length=2048)]


class ResourceMapError(ValueError):
    """The resource map file cannot be used; the message names the file and the field."""


class _Map(RootModel[dict[Kind, dict[LogicalName, Arn]]]):
    model_config = ConfigDict(frozen=True)


class ResourceMap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    arns: dict[Kind, dict[LogicalName, Arn]]

    def resolver(self) -> dict[tuple[str, str], str]:
        """(kind, name) -> ARN, the renderer's resolver."""
        return {(kind, name): arn for kind, names in self.arns.items() for name, arn in names.items()}

    def to_json(self) -> str:
        ordered = {kind: dict(sorted(names.items())) for kind, names in sorted(self.arns.items())}
        return json.dumps(ordered, indent=2) + "\n"

    @classmethod
    def from_resolver(cls, resolver: Mapping[tuple[str, str], str]) -> ResourceMap:
        arns: dict[str, dict[str, str]] = {}
        for (kind, name), arn in resolver.items():
            arns.setdefault(kind, {})[name] = arn
        return cls.model_validate({"arns": arns})

    @classmethod
    def from_known(cls, known: Mapping[str, Placeholder]) -> ResourceMap:
        """From export's ARN -> placeholder mapping."""
        return cls.from_resolver({(placeholder.kind, placeholder.name): arn for arn, placeholder in known.items()})


def load_resource_map(path: Path) -> ResourceMap:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ResourceMapError(f"{path}: cannot read: {error}") from None
    except json.JSONDecodeError as error:
        raise ResourceMapError(f"{path}: not valid JSON: {error}") from None
    try:
        return ResourceMap(arns=_Map.model_validate(raw).root)
    except ValidationError as error:
        problems = "; ".join(_problem(item["loc"], item["type"], item["msg"]) for item in error.errors())
        raise ResourceMapError(
            f"{path}: {problems} (expected {{kind: {{logical_name: ARN}}}}, kinds lambda, queue, hours, prompt, "
            "flow, module)"
        ) from None


def _problem(loc: tuple[int | str, ...], kind: str, message: str) -> str:
    """One validation error in an admin's words: where in the map, and what is wrong."""
    parts = [str(part) for part in loc if part != "[key]"]
    where = ".".join(parts) or "(top level)"
    if "[key]" in loc and len(parts) == 1:
        return f"{where}: not a kind of resource"
    if "[key]" in loc:
        return f"{where}: a logical name is lower snake case, like general_support"
    if kind == "string_pattern_mismatch":
        return f"{where}: must be an ARN, like arn:aws:connect:eu-west-2:111122223333:instance/.../queue/..."
    return f"{where}: {message}"
