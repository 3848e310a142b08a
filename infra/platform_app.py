"""Builds the platform for one environment and maturity stage into a CDK App."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Stage

from infra.capabilities import CAPABILITIES, Capability, capabilities_deployed
from infra.config import ENV_KEY, MATURITY_KEY, PlatformConfig, load_config, read_cdk_json_context
from infra.constructs.compliance import enable_compliance_checks
from infra.stacks.platform_stack import Dependencies, PlatformStack


def build_platform(
    app: Stage, config: PlatformConfig, table: tuple[Capability, ...] = CAPABILITIES
) -> dict[str, PlatformStack]:
    """Add the stacks of every capability up to the configured stage (opt-ins when enabled), checked by cdk-nag.

    `app` is the App, or a stage of the delivery pipeline that deploys one environment."""
    built: dict[str, PlatformStack] = {}
    for capability in capabilities_deployed(config, table):
        built[capability.name] = capability.stack(
            app, config=config, capability=capability, deps=Dependencies(capability, built)
        )
    enable_compliance_checks(app)
    return built


def create_app(*, outdir: str | None = None) -> tuple[App, PlatformConfig]:
    """The app as the CDK CLI runs it: context from cdk.json and `-c` flags.

    cdk.json's context is also given as the App's defaults, so `python app.py` run
    without the CLI synthesizes the same thing; the CLI's values override them.
    """
    app = App(outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"), context=read_cdk_json_context())
    config = load_config(app.node.try_get_context)
    build_platform(app, config)
    return app, config


def synthesize(env_name: str, maturity: int, outdir: str, *, context: Mapping[str, Any] | None = None) -> App:
    """Synthesize one environment and stage in-process (tests, demo); cdk.json supplies the context."""
    merged = dict(read_cdk_json_context() if context is None else context)
    merged.update({ENV_KEY: env_name, MATURITY_KEY: int(maturity)})
    app = App(outdir=outdir, context=merged)
    build_platform(app, load_config(app.node.try_get_context))
    app.synth()
    return app
