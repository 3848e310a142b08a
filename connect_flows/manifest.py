"""The flow manifest: which flows exist, their Connect type, and the lowest maturity stage that deploys them.

`connect_flows/manifest.json` is read by the CDK app (deploy the flows of the
selected stage) and by `omni flows` (validate, render, deploy, export, simulate).
A stage upgrade only adds flows: a flow deployed at stage N stays at N+1, which is
why later capabilities arrive as new flows (`personalised_inbound_offers`) and never
as edits that remove the fallback path.

Flow modules (`modules`: blocks several flows share, `AWS::Connect::ContactFlowModule`)
are listed the same way; a module ships with the lowest stage of the flows that
invoke it (`${module:key}`), so every stage that deploys a flow has its modules.

Logical names: a flow's manifest key is the name other flows use in `${flow:key}`.
Resource display names follow a convention, so admins' instances need no mapping
file: `general_support` -> "General support" (queues, hours, prompts, modules),
a flow's display name is its manifest `name`, and a Lambda function matches when
its name is `caller-lookup` or ends with `-caller-lookup` (deployments prefix
function names). The manifest's `resources` section overrides any of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connect_flows.placeholders import Kind

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.json"

FlowType = Literal[
    "CONTACT_FLOW",
    "CUSTOMER_QUEUE",
    "CUSTOMER_HOLD",
    "CUSTOMER_WHISPER",
    "AGENT_HOLD",
    "AGENT_WHISPER",
    "OUTBOUND_WHISPER",
    "AGENT_TRANSFER",
    "QUEUE_TRANSFER",
    "CAMPAIGN",
]
# A flow module is not a flow type of the API, but the flow language restricts some
# actions to modules (EndFlowModuleExecution) and others away from them.
MODULE: Final = "FLOW_MODULE"
FlowKind = FlowType | Literal["FLOW_MODULE"]
LogicalName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowEntry(_Frozen):
    file: str
    name: Annotated[str, Field(min_length=1, max_length=127)]
    type: FlowType
    description: Annotated[str, Field(max_length=500)] = ""
    min_stage: Annotated[int, Field(ge=1, le=5)]


class ModuleEntry(_Frozen):
    file: str
    name: Annotated[str, Field(min_length=1, max_length=127)]
    description: Annotated[str, Field(max_length=500)] = ""
    min_stage: Annotated[int, Field(ge=1, le=5)]


class Manifest(_Frozen):
    flows: dict[LogicalName, FlowEntry]
    modules: dict[LogicalName, ModuleEntry] = Field(default_factory=dict)
    resources: dict[Kind, dict[LogicalName, str]] = Field(default_factory=dict)
    root: Path = Field(exclude=True)

    @model_validator(mode="after")
    def _files_exist(self) -> Manifest:
        entries: list[tuple[str, FlowEntry | ModuleEntry]] = [*self.flows.items(), *self.modules.items()]
        missing = [f"{key}: {entry.file}" for key, entry in entries if not (self.root / entry.file).is_file()]
        if missing:
            raise ValueError("flow files not found: " + ", ".join(missing))
        return self

    def module_path(self, key: str) -> Path:
        return self.root / self.modules[key].file

    def load_module(self, key: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.module_path(key).read_text(encoding="utf-8"))
        return document

    def modules_for_stage(self, stage: int) -> dict[str, ModuleEntry]:
        """The flow modules a deployment at `stage` contains, in manifest order."""
        return {key: entry for key, entry in self.modules.items() if entry.min_stage <= stage}

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every flow and module document, by manifest key (flows and modules never share a key)."""
        return {
            **{key: self.load_flow(key) for key in self.flows},
            **{key: self.load_module(key) for key in self.modules},
        }

    def all_paths(self) -> list[Path]:
        return [*(self.path_of(key) for key in self.flows), *(self.module_path(key) for key in self.modules)]

    def deploy_order(self) -> list[str]:
        """Modules, then flows, each in manifest order: the order they are created in (flows invoke modules)."""
        return [*self.modules, *self.flows]

    def item(self, key: str) -> FlowEntry | ModuleEntry:
        """The manifest entry of a flow or a module."""
        if key in self.modules:
            return self.modules[key]
        return self.entry(key)

    def kind(self, key: str) -> FlowKind:
        return MODULE if key in self.modules else self.entry(key).type

    def load(self, key: str) -> dict[str, Any]:
        return self.load_module(key) if key in self.modules else self.load_flow(key)

    def path_of(self, key: str) -> Path:
        return self.root / self.entry(key).file

    def entry(self, key: str) -> FlowEntry:
        try:
            return self.flows[key]
        except KeyError:
            raise KeyError(f"no flow {key!r} in the manifest (flows: {', '.join(self.flows)})") from None

    def load_flow(self, key: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.path_of(key).read_text(encoding="utf-8"))
        return document

    def flows_for_stage(self, stage: int) -> dict[str, FlowEntry]:
        """The flows a deployment at `stage` contains, in manifest order (dependencies first)."""
        return {key: entry for key, entry in self.flows.items() if entry.min_stage <= stage}

    def key_for_file(self, path: Path) -> str | None:
        resolved = path.resolve()
        for key in self.flows:
            if self.path_of(key).resolve() == resolved:
                return key
        return None

    def kind_for_file(self, path: Path) -> FlowKind | None:
        """The flow type a listed file is deployed as (None for a file the manifest does not list)."""
        key = self.key_for_file(path)
        if key is not None:
            return self.flows[key].type
        resolved = path.resolve()
        if any(self.module_path(module).resolve() == resolved for module in self.modules):
            return MODULE
        return None

    def display_name(self, kind: Kind, logical_name: str) -> str:
        """The name a resource has in an instance (see the module docstring for the convention)."""
        override = self.resources.get(kind, {}).get(logical_name)
        if override is not None:
            return override
        if kind == "flow" and logical_name in self.flows:
            return self.flows[logical_name].name
        if kind == "module" and logical_name in self.modules:
            return self.modules[logical_name].name
        if kind == "lambda":
            return logical_name.replace("_", "-")
        return logical_name.replace("_", " ").capitalize()


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Manifest.model_validate({**raw, "root": path.resolve().parent})
