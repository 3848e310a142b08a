"""Every cdk-nag acknowledgement still covers a finding on the construct it sits on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.constructs.compliance import acknowledgement_audit
from infra.platform_app import synthesize
from infra.stages import Stage

from .conftest import ENVIRONMENTS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_acknowledgement_outlives_its_finding(tmp_path: Path, env: str) -> None:
    # Given the full platform synthesized with acknowledgements recorded, not applied
    with acknowledgement_audit() as acknowledgements, pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize(env, Stage.SEAMLESS, str(tmp_path))
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }
    # Then each acknowledgement matches a finding of its rule on its construct or a child of it
    assert acknowledgements
    stale = [
        (path, finding)
        for path, finding in acknowledgements
        if not any(
            finding in (rule, rule.split("[")[0]) and (where == path or where.startswith(path + "/"))
            for rule, where in findings
        )
    ]
    assert stale == []
