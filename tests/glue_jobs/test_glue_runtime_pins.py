"""The Python modules the Glue job installs are the ones the Spark tests ran, and pyproject.toml asks for the same."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from glue_jobs.local_spark import GLUE_SPARK_VERSION, SIMILARITY_JAR
from infra.stacks.customer_domain_stack import SPLINK_REQUIREMENTS, glue_requirements

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _pins(lines: list[str]) -> dict[str, str]:
    return {
        name.strip().lower(): pinned.split(";")[0].strip()
        for name, _, pinned in (line.partition("==") for line in lines)
        if pinned
    }


def test_every_module_the_job_installs_is_pinned_to_the_version_installed_here() -> None:
    pins = _pins(glue_requirements(SPLINK_REQUIREMENTS))
    assert {"splink", "pyarrow", "sqlglot", "duckdb", "pandas", "numpy"} <= set(pins)
    assert {name: version(name) for name in pins} == pins


def test_pyproject_asks_for_exactly_the_versions_the_job_installs() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    declared = _pins([line.replace('"', "") for line in project["dependencies"]])
    pins = _pins(glue_requirements(SPLINK_REQUIREMENTS))
    assert {name: declared.get(name) for name in pins} == pins
    assert f"pyspark=={GLUE_SPARK_VERSION}" in project["optional-dependencies"]["spark"]
    assert f"pyspark=={GLUE_SPARK_VERSION}" in project["optional-dependencies"]["dev"]


def test_local_spark_is_glue_5_spark_with_the_jar_the_stack_uploads() -> None:
    assert version("pyspark") == GLUE_SPARK_VERSION == "3.5.4"
    assert SIMILARITY_JAR.is_file()
    assert "spark3" in SIMILARITY_JAR.name
