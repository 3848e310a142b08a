"""Where each setting of a resolved environment comes from, for `omni config show`.

A setting is a field of the typed config that holds a value rather than a section
(`sizing.lambda_memory_mb`, `alerts.watches`). Its source is `default` (its
default in `infra/config.py`), `cdk.json:context.<path>` (the environment gives
it), or `-c maturity` (the stage given on the command line, as `cdk synth -c
maturity=N` would). A list or a map comes whole from one source, so its items
share their setting's source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from infra.config import (
    ENVIRONMENTS_KEY,
    MATURITY_KEY,
    PROJECT_KEY,
    PlatformConfig,
    config_for,
    read_cdk_json_context,
)

DEFAULT_SOURCE = "default"
MATURITY_OVERRIDE_SOURCE = f"-c {MATURITY_KEY}"


@dataclass(frozen=True)
class Setting:
    path: str  # dotted, as in cdk.json: sizing.lambda_memory_mb
    value: Any  # as JSON would hold it
    source: str


@dataclass(frozen=True)
class ResolvedConfig:
    config: PlatformConfig
    settings: tuple[Setting, ...]  # project first, then the environment's settings in declaration order

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.config.project,
            "env": self.config.env_name,
            "environment": self.config.environment.model_dump(mode="json"),
            "sources": {setting.path: setting.source for setting in self.settings},
        }

    def as_text(self) -> str:
        """One line per value (list and map items spelled out under their setting), aligned in columns."""
        rows = [("setting", "value", "source")]
        for setting in self.settings:
            rows += [(path, json.dumps(value), setting.source) for path, value in _leaves(setting.path, setting.value)]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        header = (
            f"{self.config.project} / {self.config.env_name} ({self.config.region}), stage "
            f"{self.config.maturity.label}: every setting, its value and where it comes from"
        )
        lines = [f"{path.ljust(widths[0])}  {value.ljust(widths[1])}  {source}" for path, value, source in rows]
        return "\n".join([header, "", *lines])


def resolve(env_name: str, maturity: int | None = None, *, context: Mapping[str, Any] | None = None) -> ResolvedConfig:
    """The environment's config as `cdk synth -c env=ENV [-c maturity=N]` builds it, with each setting's source.

    Raises `ConfigError` exactly as synthesis would (an unknown environment names the known ones).
    """
    raw_context = read_cdk_json_context() if context is None else context
    config = config_for(env_name, maturity, context=raw_context)
    raw_environment = raw_context[ENVIRONMENTS_KEY][env_name]
    project_source = f"cdk.json:context.{PROJECT_KEY}" if raw_context.get(PROJECT_KEY) else DEFAULT_SOURCE
    settings = [Setting("project", config.project, project_source)]
    prefix = f"cdk.json:context.{ENVIRONMENTS_KEY}.{env_name}"
    for path, value in _settings(config.environment):
        if maturity is not None and path == "maturity":
            source = MATURITY_OVERRIDE_SOURCE
        elif _given(raw_environment, path):
            source = f"{prefix}.{path}"
        else:
            source = DEFAULT_SOURCE
        settings.append(Setting(path, value, source))
    return ResolvedConfig(config, tuple(settings))


def _settings(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, JSON value) of each field that is not itself a section, depth first."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _settings(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", model.model_dump(mode="json", include={name})[name]


def _given(raw: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(raw, Mapping) or part not in raw:
            return False
        raw = raw[part]
    return True


def _leaves(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    """A map's entries as path.key, a list of objects' items as path[i]; scalars and lists of scalars whole."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(f"{path}.{key}", item)
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        for index, item in enumerate(value):
            yield from _leaves(f"{path}[{index}]", item)
    else:
        yield path, value
