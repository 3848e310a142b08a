"""One reader of a synthesized cloud assembly (`cdk.out`): its stacks, templates, outputs and assets.

`CloudAssembly.read(directory)` parses `manifest.json` and every stack's template
once; the diagram, `omni assembly`, the sandbox and the infra tests all read an
assembly through it, so what a stack, an output or an asset is is decided here only.

`Intrinsics` evaluates CloudFormation intrinsics over an assembly as CloudFormation
would at deploy time, given what a resource's `Ref` and attributes are (the caller
knows: the sandbox gives the names it provisioned in moto). References between
stacks are followed as the CDK emits them: `Fn::GetStackOutput` (the named stack's
output) and `Fn::ImportValue` (the output exporting that name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
ASSET_PATH_METADATA = "aws:asset:path"


class AssemblyError(Exception):
    """The assembly cannot be read, or names something it does not hold (a stack, output, export or asset)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource of one stack's template."""

    stack: str
    logical_id: str
    type: str
    properties: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.stack, self.logical_id)


@dataclass(frozen=True, slots=True)
class Output:
    """One output of one stack: its value (a template expression) and the name it is exported under, if any."""

    stack: str
    name: str
    value: Any
    export_name: Any = None


@dataclass
class Stack:
    """One stack artifact: its deployed name, its template and the stacks it depends on."""

    name: str
    template: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    template_file: str = ""
    asset_manifest_file: str = ""  # `<stack>.assets.json`: which staged folder or file each asset hash is

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    @property
    def outputs(self) -> dict[str, Output]:
        return {
            name: Output(self.name, name, output.get("Value"), (output.get("Export") or {}).get("Name"))
            for name, output in self.template.get("Outputs", {}).items()
        }


class CloudAssembly:
    """The stacks of one cloud assembly, by deployed stack name (the manifest's order)."""

    def __init__(self, stacks: Mapping[str, Stack], directory: Path | None = None) -> None:
        self.stacks: dict[str, Stack] = dict(stacks)
        self.directory = directory

    @classmethod
    def read(cls, directory: Path) -> CloudAssembly:
        """Every stack of the assembly in `directory`; an error names what is missing or unreadable."""
        manifest = _json(directory / MANIFEST, missing=f"{directory}: no {MANIFEST}; synthesize first (make synth)")
        artifacts: Mapping[str, Any] = manifest.get("artifacts") or {}
        names = {
            artifact_id: artifact.get("properties", {}).get("stackName", artifact_id)
            for artifact_id, artifact in artifacts.items()
            if artifact.get("type") == STACK_ARTIFACT
        }
        stacks: dict[str, Stack] = {}
        for artifact_id, name in names.items():
            artifact = artifacts[artifact_id]
            template_file = artifact.get("properties", {}).get("templateFile")
            if not template_file:
                raise AssemblyError(f"{directory}: stack {name} names no template file in {MANIFEST}")
            template = _json(
                directory / template_file, missing=f"{directory}: stack {name}'s template {template_file} is missing"
            )
            dependencies = tuple(sorted(names[dep] for dep in artifact.get("dependencies", []) if dep in names))
            asset_manifests = [
                artifacts[dep].get("properties", {}).get("file", "")
                for dep in artifact.get("dependencies", [])
                if artifacts.get(dep, {}).get("type") == ASSET_MANIFEST_ARTIFACT
            ]
            stacks[name] = Stack(name, template, dependencies, template_file, next(iter(asset_manifests), ""))
        return cls(stacks, directory)

    @classmethod
    def from_templates(cls, templates: Mapping[str, Mapping[str, Any]]) -> CloudAssembly:
        """An assembly of these templates by stack name, with no directory (tests, in-memory templates)."""
        return cls({name: Stack(name, dict(template)) for name, template in templates.items()})

    # -- stacks and templates ---------------------------------------------------------------------
    @property
    def templates(self) -> dict[str, dict[str, Any]]:
        """Each stack's template by stack name."""
        return {name: stack.template for name, stack in self.stacks.items()}

    def stack(self, name: str) -> Stack:
        try:
            return self.stacks[name]
        except KeyError:
            known = ", ".join(self.stacks) or "none"
            raise AssemblyError(f"no stack {name} in the assembly; stacks: {known}") from None

    def template(self, stack: str) -> dict[str, Any]:
        return self.stack(stack).template

    def resources(self, *types: str) -> list[Resource]:
        """Every resource of these types (all resources without types), stack by stack."""
        return [resource for resource in self._all_resources() if not types or resource.type in types]

    def _all_resources(self) -> Iterator[Resource]:
        for stack in self.stacks.values():
            for logical_id, raw in stack.resources.items():
                yield Resource(stack.name, logical_id, raw["Type"], raw.get("Properties", {}))

    def resource(self, stack: str, logical_id: str) -> Resource:
        raw = self.stack(stack).resources.get(logical_id)
        if raw is None:
            raise AssemblyError(f"{stack}: no resource {logical_id}")
        return Resource(stack, logical_id, raw["Type"], raw.get("Properties", {}))

    # -- outputs and exports ------------------------------------------------------------------------
    @property
    def outputs(self) -> list[Output]:
        """Every output of every stack."""
        return [output for stack in self.stacks.values() for output in stack.outputs.values()]

    def output(self, stack: str, name: str) -> Output:
        try:
            return self.stack(stack).outputs[name]
        except KeyError:
            raise AssemblyError(f"stack {stack} has no output {name}") from None

    def export(self, name: str) -> Output:
        """The output exporting this (literal) name."""
        for output in self.outputs:
            if output.export_name == name:
                return output
        raise AssemblyError(f"no stack exports {name}")

    # -- assets -------------------------------------------------------------------------------------
    def asset_directory(self, stack: str, logical_id: str) -> Path:
        """Where a resource's asset (a function's code) is staged in the assembly.

        The stack's asset manifest is the authority (what `cdk deploy` uploads for the code's S3 key);
        the `aws:asset:path` metadata, which synthesis may leave out, is the fallback.
        """
        raw = self.stack(stack).resources.get(logical_id)
        if raw is None:
            raise AssemblyError(f"{stack}: no resource {logical_id}")
        if self.directory is None:
            raise AssemblyError(f"{stack}/{logical_id}: the assembly was not read from a directory")
        path = self._staged_code_path(stack, raw) or (raw.get("Metadata") or {}).get(ASSET_PATH_METADATA)
        if not path:
            raise AssemblyError(f"{stack}/{logical_id} has no asset")
        directory = self.directory / path
        if not directory.exists():
            raise AssemblyError(f"{stack}/{logical_id}: its asset {path} is missing from {self.directory}")
        return directory

    def staged_asset(self, stack: str, asset_hash: str) -> Path:
        """The staged folder or file of one of the stack's assets, by the hash its S3 key is named after."""
        manifest_file = self.stack(stack).asset_manifest_file
        if self.directory is None or not manifest_file:
            raise AssemblyError(f"{stack}: no asset manifest (the assembly was not read from a directory)")
        files = _json(self.directory / manifest_file, missing=f"{stack}: its asset manifest {manifest_file} is missing")
        entry = (files.get("files") or {}).get(asset_hash)
        if entry is None:
            raise AssemblyError(f"{stack}: its asset manifest {manifest_file} has no asset {asset_hash}")
        return self.directory / str(entry["source"]["path"])

    def _staged_code_path(self, stack: str, raw: Mapping[str, Any]) -> str | None:
        key = ((raw.get("Properties") or {}).get("Code") or {}).get("S3Key")
        manifest_file = self.stack(stack).asset_manifest_file
        if not isinstance(key, str) or not manifest_file or self.directory is None:
            return None
        files = _json(self.directory / manifest_file, missing=f"{stack}: its asset manifest {manifest_file} is missing")
        entry = (files.get("files") or {}).get(key.removesuffix(".zip"))
        return None if entry is None else str(entry["source"]["path"])


def _json(path: Path, *, missing: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssemblyError(missing) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise AssemblyError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise AssemblyError(f"{path}: not a JSON object")
    return document


class Intrinsics:
    """CloudFormation intrinsics evaluated over an assembly, across stacks.

    `attributes(stack, logical_id)` gives a resource's `Ref` and its `Fn::GetAtt`
    attributes (by attribute name): what they are depends on where the resources live.
    """

    def __init__(
        self,
        assembly: CloudAssembly,
        *,
        account: str,
        region: str,
        attributes: Callable[[str, str], Mapping[str, str]],
        partition: str = "aws",
        url_suffix: str = "amazonaws.com",
    ) -> None:
        self.assembly = assembly
        self.account = account
        self.region = region
        self.partition = partition
        self.url_suffix = url_suffix
        self._attributes = attributes

    def resolve(self, value: Any, stack: str) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if isinstance(value, list):
            return [self.resolve(item, stack) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1 or not next(iter(value)).startswith(("Fn::", "Ref")):
            return {key: self.resolve(item, stack) for key, item in value.items()}
        ((function, argument),) = value.items()
        if function == "Ref":
            return self.ref(argument, stack)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.get_att(stack, logical_id, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(part) for part in self.resolve(parts, stack))
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items, stack)[int(self.resolve(index, stack))]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text, stack)).split(separator)
        if function == "Fn::Sub":
            return self._sub(argument, stack)
        if function == "Fn::ImportValue":
            return self.import_value(str(self.resolve(argument, stack)))
        if function == "Fn::GetStackOutput":
            output = self.assembly.output(str(argument["StackName"]), str(argument["OutputName"]))
            return self.resolve(output.value, output.stack)
        raise AssemblyError(f"{stack}: cannot resolve {function} ({json.dumps(argument)[:120]})")

    def pseudo_parameters(self, stack: str) -> dict[str, str]:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/{stack}/local",
            "AWS::NoValue": "",
        }

    def ref(self, name: str, stack: str) -> str:
        pseudo = self.pseudo_parameters(stack)
        if name in pseudo:
            return pseudo[name]
        parameters = self.assembly.template(stack).get("Parameters", {})
        if name in parameters:
            return str(parameters[name].get("Default", ""))
        return self._attributes(stack, name)["Ref"]

    def get_att(self, stack: str, logical_id: str, attribute: str) -> str:
        attributes = self._attributes(stack, logical_id)
        if attribute not in attributes:
            raise AssemblyError(f"{stack}: {logical_id}.{attribute} is not known here")
        return attributes[attribute]

    def import_value(self, export_name: str) -> Any:
        """The value of the output exporting this name (export names may themselves be expressions)."""
        for output in self.assembly.outputs:
            if output.export_name is not None and self.resolve(output.export_name, output.stack) == export_name:
                return self.resolve(output.value, output.stack)
        raise AssemblyError(f"no stack exports {export_name}")

    def _sub(self, argument: Any, stack: str) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {name: self.resolve(value, stack) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(stack, logical_id, attribute)
            return self.ref(name, stack)

        return re.sub(r"\$\{([^!][^}]*)\}", substitute, text)


def referenced_ids(value: Any) -> list[str]:
    """Logical ids a (possibly nested) expression refers to with `Ref` or `Fn::GetAtt`, in order."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += referenced_ids(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and not item.startswith("AWS::"):
                found.append(item)
            elif key == "Fn::GetAtt":
                found.append(item.split(".", 1)[0] if isinstance(item, str) else item[0])
            else:
                found += referenced_ids(item)
    return found
