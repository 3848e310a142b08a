"""One synthesis of dev at stage 5 per session, shared by the sandbox tests (synthesis takes ~15 s)."""

from __future__ import annotations

import pytest

from sandbox.platform import Templates, synthesize_templates


@pytest.fixture(scope="session")
def dev_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return synthesize_templates("dev", 5, tmp_path_factory.mktemp("assembly"))
