"""A real API client against both APIs: schemathesis fuzzes `omni sandbox serve` over loopback, and finds nothing.

One server on a free 127.0.0.1 port (the dev platform at stage 5 in moto, seeded)
serves both APIs; one schemathesis run per OpenAPI document, both at once, each
with every phase (coverage, fuzzing, stateful) and every check but the two that
need SigV4 (`schemathesis.toml` beside this file says which and why). The seed
is fixed and the examples per operation bounded, so a run is repeatable and
takes under a minute; change SEED locally to explore further.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.platform import local_platform
from sandbox.serve import LocalApis, LocalApiServer, running
from sandbox.templates import CloudAssembly

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261201
MAX_EXAMPLES = 10
TIMEOUT_SECONDS = 300  # a hung run fails the test instead of holding the suite
OPERATIONS = {"profiles": 6, "eligibility": 5}


def schemathesis(document_url: str, workdir: Path) -> subprocess.Popen[str]:
    workdir.mkdir()
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", document_url),
        *("--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES)),
        # One worker: several crash in the coverage phase (schemathesis 4.32.5); the two runs go side by side.
        *("--workers", "1", "--warnings", "off", "--output-sanitize", "false", "--no-color"),
    ]
    # Loopback only: never through a proxy the environment may name.
    environment = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.Popen(  # noqa: S603 - our own interpreter running the pinned schemathesis
        command, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_schemathesis_finds_no_failure_on_either_api(dev_templates: CloudAssembly, tmp_path: Path) -> None:
    # Given both APIs served on loopback from a seeded sandbox platform
    with local_platform(templates=dev_templates) as platform:
        apis = LocalApis(platform)
        apis.seed()
        assert apis.apis == sorted(OPERATIONS)
        with running(LocalApiServer(apis, "127.0.0.1", 0)) as server:
            # When schemathesis fuzzes each API from its OpenAPI document
            runs = {api: schemathesis(f"{server.url}/openapi/{api}.json", tmp_path / api) for api in OPERATIONS}
            outputs = {}
            try:
                for api, run in runs.items():
                    outputs[api] = run.communicate(timeout=TIMEOUT_SECONDS)[0]
            finally:
                for run in runs.values():
                    if run.poll() is None:
                        run.kill()
                        run.wait()

    # Then every operation was tested in every phase, and no check failed
    for api, output in outputs.items():
        assert runs[api].returncode == 0, f"schemathesis found failures in the {api} API:\n{output[-20000:]}"
        assert f"Selected: {OPERATIONS[api]}/{OPERATIONS[api]}" in output, output[-5000:]
        assert f"Tested: {OPERATIONS[api]}" in output, output[-5000:]
        for phase in ("Coverage", "Fuzzing", "Stateful"):
            assert f"✅ {phase}" in output, f"{api}: the {phase} phase did not pass:\n{output[-5000:]}"
        assert "No issues found" in output, output[-5000:]
