"""One synthesis of every (environment, stage) per test session, shared by the infra tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.assembly import CloudAssembly
from infra.config import read_cdk_json_context
from infra.platform_app import synthesize
from infra.stages import Stage

ENVIRONMENTS = tuple(read_cdk_json_context()["omni:environments"])


@dataclass
class Synthesis:
    env: str
    stage: Stage
    outdir: Path
    error: str | None = None
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def assembly(self) -> CloudAssembly:
        """The synthesized cloud assembly, read through the app's one reader."""
        return CloudAssembly.read(self.outdir)

    def violations(self) -> list[str]:
        """Unacknowledged cdk-nag findings, one line each, from the validation report."""
        report_path = self.outdir / "validation-report.json"
        if not report_path.exists():
            return []
        lines = []
        for plugin in json.loads(report_path.read_text())["pluginReports"]:
            for violation in plugin.get("violations", []):
                for construct in violation["violatingConstructs"]:
                    lines.append(f"{violation['ruleName']} {construct['constructPath']}: {violation['description']}")
        return lines

    def template(self, capability: str) -> dict[str, Any]:
        return next(t for name, t in self.templates.items() if name.endswith(f"-{capability}"))


def load_templates(outdir: Path) -> dict[str, dict[str, Any]]:
    return CloudAssembly.read(outdir).templates


@pytest.fixture(scope="session")
def syntheses(tmp_path_factory: pytest.TempPathFactory) -> Mapping[tuple[str, Stage], Synthesis]:
    results = {}
    context = read_cdk_json_context()
    for env in ENVIRONMENTS:
        for stage in Stage:
            outdir = tmp_path_factory.mktemp(f"cdk-{env}-{stage.value}")
            result = Synthesis(env, stage, outdir)
            try:
                synthesize(env, stage.value, str(outdir), context=context)
            except Exception as error:  # noqa: BLE001 - nag findings (and any other failure) are reported by the tests
                result.error = f"{type(error).__name__}: {error}"
            if (outdir / "manifest.json").exists():
                result.templates = load_templates(outdir)
            results[env, stage] = result
    return results


@pytest.fixture(scope="session")
def dev5(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> Synthesis:
    return syntheses["dev", Stage.SEAMLESS]


@pytest.fixture(scope="session")
def prod5(syntheses: Mapping[tuple[str, Stage], Synthesis]) -> Synthesis:
    return syntheses["prod", Stage.SEAMLESS]


GAME_DAYS_ENV = "prod"


@pytest.fixture(scope="session")
def game_days(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """prod at stage 5 with game days enabled (`game_days.enabled`, off in every environment of cdk.json)."""
    context = copy.deepcopy(read_cdk_json_context())
    context["omni:environments"][GAME_DAYS_ENV]["game_days"] = {"enabled": True}
    outdir = tmp_path_factory.mktemp("cdk-game-days")
    result = Synthesis(GAME_DAYS_ENV, Stage.SEAMLESS, outdir)
    try:
        synthesize(GAME_DAYS_ENV, Stage.SEAMLESS.value, str(outdir), context=context)
    except Exception as error:  # noqa: BLE001 - reported by the tests, like the other syntheses
        result.error = f"{type(error).__name__}: {error}"
    if (outdir / "manifest.json").exists():
        result.templates = load_templates(outdir)
    return result


PIPELINE_ACCOUNT = "111111111111"
PROD_ACCOUNT = "333333333333"  # dev gives none: it deploys into the pipeline's account


def pipeline_context(source: dict[str, Any]) -> dict[str, Any]:
    """cdk.json's context with the delivery pipeline enabled, in its own account, prod in another."""
    context = copy.deepcopy(read_cdk_json_context())
    context["omni:pipeline"] = {"enabled": True, "account": PIPELINE_ACCOUNT, "source": source}
    context["omni:environments"]["prod"]["account"] = PROD_ACCOUNT
    return context


CONNECTION_SOURCE = {
    "kind": "connection",
    "repository": "example/omni-cx",
    "branch": "main",
    "connection_arn": f"arn:aws:codeconnections:eu-west-2:{PIPELINE_ACCOUNT}:connection/12345678-1234-1234-1234-123456789012",
}
S3_SOURCE = {"kind": "s3", "bucket": "example-omni-cx-source", "object_key": "omni-cx/source.zip"}


def _synthesize_pipeline(outdir: Path, source: dict[str, Any]) -> Synthesis:
    from infra.delivery_pipeline import create_pipeline_app

    result = Synthesis("pipeline", Stage.SEAMLESS, outdir)
    try:
        create_pipeline_app(outdir=str(outdir), context=pipeline_context(source)).synth()
    except Exception as error:  # noqa: BLE001 - reported by the tests, like the platform's syntheses
        result.error = f"{type(error).__name__}: {error}"
    if (outdir / "manifest.json").exists():
        result.templates = load_templates(outdir)
    return result


@pytest.fixture(scope="session")
def delivery_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The delivery pipeline app (pipeline_app.py) with a CodeConnections source, prod in another account."""
    return _synthesize_pipeline(tmp_path_factory.mktemp("cdk-pipeline"), CONNECTION_SOURCE)


@pytest.fixture(scope="session")
def delivery_pipeline_s3(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The same pipeline reading its source from an S3 object."""
    return _synthesize_pipeline(tmp_path_factory.mktemp("cdk-pipeline-s3"), S3_SOURCE)
