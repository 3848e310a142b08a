"""One synthesis of dev at stage 5 per session, shared by the sandbox tests (synthesis takes ~15 s)."""

from __future__ import annotations

import pytest

from sandbox.templates import CloudAssembly, synthesize_assembly


@pytest.fixture(scope="session")
def dev_templates(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return synthesize_assembly("dev", 5, tmp_path_factory.mktemp("assembly"))
