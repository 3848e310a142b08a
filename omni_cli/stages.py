"""`omni stages`, `omni assembly`, `omni demo` and `omni diagram`: what each maturity stage deploys."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra.config import DEFAULT_ENV, ConfigError, PlatformConfig, config_for, read_cdk_json_context
from infra.errors import PlatformDefinitionError
from infra.stages import Stage
from omni_cli.main import CliError


def register(subparsers: Any) -> None:
    stages = subparsers.add_parser("stages", help="print the maturity table and the stacks of each stage")
    stages.add_argument("--env", default=DEFAULT_ENV, help="environment from cdk.json (default: %(default)s)")
    stages.set_defaults(func=_stages)

    assembly = subparsers.add_parser("assembly", help="summarise a synthesized cloud assembly (cdk.out)")
    assembly.add_argument("outdir", type=Path, nargs="?", default=Path("cdk.out"))
    assembly.set_defaults(func=_assembly)

    demo = subparsers.add_parser("demo", help="synthesize every stage offline and show what each deploys")
    demo.add_argument("--env", default=DEFAULT_ENV)
    demo.add_argument("--outdir", type=Path, default=None, help="where the assemblies go (default: a temp dir)")
    demo.set_defaults(func=_demo)

    diagram = subparsers.add_parser(
        "diagram", help="regenerate docs/architecture.md (Mermaid) from the synthesized templates"
    )
    diagram.add_argument("--out", type=Path, default=None, help="file to write (default: docs/architecture.md)")
    diagram.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    diagram.set_defaults(func=_diagram)


def _config(env: str, maturity: int | None = None) -> PlatformConfig:
    try:
        return config_for(env, maturity)
    except ConfigError as error:
        raise CliError(str(error)) from None


def maturity_table(config: PlatformConfig) -> str:
    """The stage table with, per stage, the capabilities it adds and their stacks."""
    from infra.capabilities import capabilities_added_at

    rows = [("stage", "capability", "stack", "adds")]
    for stage in Stage:
        added = capabilities_added_at(stage)
        marker = " *" if stage == config.maturity else ""
        if not added:
            rows.append((stage.label + marker, "-", "-", "(nothing yet)"))
        for capability in added:
            rows.append((stage.label + marker, capability.name, capability.stack_name(config), capability.summary))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        f"{config.project} / {config.env_name} ({config.region}): configured stage {config.maturity.label} (*)",
        "a stage deploys its own stacks and those of every lower stage",
        "",
    ]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    return "\n".join(lines)


def _stages(args: argparse.Namespace) -> int:
    print(maturity_table(_config(args.env)))
    return 0


def summarise_assembly(outdir: Path) -> list[tuple[str, int, str]]:
    """(stack name, resource count, template file) for each stack in a cloud assembly."""
    from infra.assembly import AssemblyError, CloudAssembly

    try:
        assembly = CloudAssembly.read(outdir)
    except AssemblyError as error:
        raise CliError(str(error)) from None
    return sorted((stack.name, len(stack.resources), stack.template_file) for stack in assembly.stacks.values())


def _assembly(args: argparse.Namespace) -> int:
    for name, resources, template in summarise_assembly(args.outdir):
        print(f"{name:40} {resources:4} resources  {args.outdir / template}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from infra.platform_app import synthesize

    print(maturity_table(_config(args.env)), end="\n\n")
    root = args.outdir or Path(tempfile.mkdtemp(prefix="omni-demo-"))
    context = read_cdk_json_context()
    for stage in Stage:
        started = time.perf_counter()
        outdir = root / f"stage-{stage.value}"
        print(f"stage {stage.label}: synthesizing with cdk-nag (4 packs)...", file=sys.stderr, flush=True)
        try:
            synthesize(args.env, stage.value, str(outdir), context=context)
        except (RuntimeError, PlatformDefinitionError) as error:  # nag findings or a bad definition
            raise CliError(f"stage {stage.label}: {error}") from None
        stacks = summarise_assembly(outdir)
        total = sum(resources for _, resources, _ in stacks)
        print(
            f"stage {stage.label:<15} {len(stacks)} stacks, {total} resources, "
            f"no unacknowledged findings ({time.perf_counter() - started:.1f}s)"
        )
        for name, resources, _ in stacks:
            print(f"    {name:40} {resources:4} resources")
    print(f"\ncloud assemblies: {root}")
    return 0


def _diagram(args: argparse.Namespace) -> int:
    from infra.diagram import DEFAULT_OUTPUT, DIAGRAM_ENV, DIAGRAM_STAGE, REGENERATE_COMMAND, render
    from infra.platform_app import synthesize

    config = _config(DIAGRAM_ENV, DIAGRAM_STAGE.value)
    out: Path = args.out or Path(__file__).resolve().parent.parent / DEFAULT_OUTPUT
    with tempfile.TemporaryDirectory(prefix="omni-diagram-") as outdir:
        print(f"synthesizing {config.env_name} at stage {config.maturity.label}...", file=sys.stderr, flush=True)
        try:
            synthesize(config.env_name, config.maturity.value, outdir)
        except (RuntimeError, PlatformDefinitionError) as error:
            raise CliError(str(error)) from None
        text = render(Path(outdir), config)
    current = out.read_text(encoding="utf-8") if out.is_file() else None
    if args.check:
        if current == text:
            print(f"{out}: up to date")
            return 0
        print(f"{out}: out of date; run {REGENERATE_COMMAND}", file=sys.stderr)
        return 1
    if current == text:
        print(f"{out}: unchanged")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"{out}: written")
    return 0
