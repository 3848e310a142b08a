"""The code shipped to AWS stays free of the command line, the CDK app and the test tooling.

Every Lambda handler, Glue script and SageMaker entry point the stacks name is
followed through its imports (statically, with `ast`, transitively inside the
repository: imports inside functions and under TYPE_CHECKING count too, since a
lazy import still runs in the function) and must reach none of FORBIDDEN. A hit
names the whole chain, from the entry point to the offending import.

The entry points are read from the infrastructure code, not listed here: handler
strings such as `event_processor.handler.lambda_handler` and the `.py` file names
the stacks upload, plus every `lambdas/*/handler.py`, `glue_jobs/*_job.py` and
`sagemaker/*_entry.py`; so a new function or job is checked the day it is added.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# Where top-level packages are found, as at run time (pyproject's pythonpath): the Lambda asset root and
# the SageMaker source dir hold their packages at their roots.
SOURCE_ROOTS = (REPOSITORY, REPOSITORY / "lambdas", REPOSITORY / "sagemaker")
# Top-level packages no shipped code may reach: the CDK app and its libraries, the command line, the
# offline sandbox, the tests, benchmarks and fakes.
FORBIDDEN = frozenset(
    {"infra", "omni_cli", "sandbox", "tests", "benchmarks", "omni_testing", "aws_cdk", "constructs", "cdk_nag"}
)
# The runtime packages as a whole (library modules included, not only what an entry point reaches) never
# import the command line or the CDK app: the arrows go from `omni_cli` and `infra` to them, never back.
RUNTIME_TREES = ("lambdas", "glue_jobs", "sagemaker", "connect_flows")
NEVER_FROM_RUNTIME = frozenset({"infra", "omni_cli"})

HANDLER_STRING = re.compile(r"^(?P<module>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)\.(?P<function>[a-z_][a-z0-9_]*)$")
SCRIPT_STRING = re.compile(r"^[A-Za-z0-9_]+\.py$")


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    path: Path

    @property
    def package(self) -> str:
        """The package relative imports in this module start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


class ImportGraph:
    """Modules of the repository and the imports between them, read with `ast` (nothing is imported)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self._roots = roots

    def find(self, name: str) -> Module | None:
        """The repository's file for a dotted module name, or None (standard library, third party)."""
        parts = name.split(".")
        for root in self._roots:
            for path in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
                # Every enclosing folder must be a package: `sagemaker/` itself is not one (it would shadow the SDK).
                if path.is_file() and all(
                    root.joinpath(*parts[:depth], "__init__.py").is_file() for depth in range(1, len(parts))
                ):
                    return Module(name, path)
        return None

    def module_at(self, path: Path) -> Module:
        """The module a file is imported as: its name under the innermost source root holding it."""
        for root in sorted(self._roots, key=lambda candidate: len(candidate.parts), reverse=True):
            if path.is_relative_to(root):
                parts = path.relative_to(root).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                return Module(name, path)
        raise ValueError(f"{path} is under no source root")

    def imported_names(self, module: Module) -> Iterator[str]:
        """Every module name the file imports, anywhere in it, relative imports made absolute; for
        `from package import name` also `package.name` when that is a submodule in the repository."""
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = module.package.split(".")
                    anchor = ".".join(package[: len(package) - (node.level - 1)])
                    base = f"{anchor}.{base}" if base else anchor
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names if self.find(f"{base}.{alias.name}"))

    def edges(self, module: Module) -> Iterator[tuple[str, Module | None]]:
        """(imported name, its module in the repository or None), with the enclosing packages an import runs."""
        for name in dict.fromkeys(self.imported_names(module)):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                yield prefix, self.find(prefix)

    def forbidden_imports(self, module: Module, banned: frozenset[str]) -> list[str]:
        """The module names this file imports from a banned top-level package, in the order written."""
        return [name for name in dict.fromkeys(self.imported_names(module)) if name.split(".")[0] in banned]

    def forbidden_chains(self, entry: Module, forbidden: Iterable[str]) -> list[str]:
        """Each import of a forbidden top-level package reachable from `entry`, as the chain that reaches it."""
        banned = frozenset(forbidden)
        came_from: dict[str, str | None] = {entry.name: None}
        queue = deque([entry])
        chains: list[str] = []
        while queue:
            module = queue.popleft()
            for name in self.forbidden_imports(module, banned):
                chain = [name, module.name]
                while (parent := came_from[chain[-1]]) is not None:
                    chain.append(parent)
                chains.append(" -> ".join(reversed(chain)))
            for name, found in self.edges(module):
                if name.split(".")[0] not in banned and found is not None and found.name not in came_from:
                    came_from[found.name] = module.name
                    queue.append(found)
        return sorted(set(chains))


GRAPH = ImportGraph(SOURCE_ROOTS)


def _string_constants(paths: Iterable[Path]) -> Iterator[str]:
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def _python_files(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def lambda_handlers() -> list[Module]:
    """The module of every handler string in the infrastructure and the Lambda constants, and every
    `lambdas/*/handler.py`."""
    names = {
        match["module"]
        for text in _string_constants(_python_files(REPOSITORY / "infra", REPOSITORY / "lambdas"))
        if (match := HANDLER_STRING.match(text)) and (REPOSITORY / "lambdas" / match["module"].split(".")[0]).is_dir()
    }
    names |= {f"{path.parent.name}.handler" for path in (REPOSITORY / "lambdas").glob("*/handler.py")}
    modules = [GRAPH.find(name) for name in sorted(names)]
    missing = [name for name, module in zip(sorted(names), modules, strict=True) if module is None]
    assert not missing, f"handler strings naming no module under lambdas/: {missing}"
    return [module for module in modules if module is not None]


def uploaded_scripts(folder: str, pattern: str) -> list[Module]:
    """The scripts of `folder` the infrastructure names (`"splink_job.py"`), and those matching `pattern`."""
    named = {
        text
        for text in _string_constants(_python_files(REPOSITORY / "infra"))
        if SCRIPT_STRING.match(text) and (REPOSITORY / folder / text).is_file()
    }
    paths = {REPOSITORY / folder / name for name in named} | set((REPOSITORY / folder).glob(pattern))
    return [GRAPH.module_at(path) for path in sorted(paths)]


ENTRY_POINTS: dict[str, list[Module]] = {
    "Lambda handler": lambda_handlers(),
    "Glue script": uploaded_scripts("glue_jobs", "*_job.py"),
    "SageMaker entry point": uploaded_scripts("sagemaker", "*_entry.py"),
}


def test_the_entry_points_are_found() -> None:
    # Every deployed function, the Glue jobs and both SageMaker programs: an empty list would pass vacuously.
    found = {kind: {module.name for module in modules} for kind, modules in ENTRY_POINTS.items()}
    assert {"event_processor.handler", "profiles.handler", "connect_lookup.handler"} <= found["Lambda handler"]
    assert len(found["Lambda handler"]) >= 12
    assert {"glue_jobs.splink_job", "glue_jobs.propensity_prepare"} <= found["Glue script"]
    assert found["SageMaker entry point"] == {"propensity_training_entry", "propensity_serving_entry"}


@pytest.mark.parametrize(
    "entry",
    [pytest.param(module, id=f"{kind}: {module.name}") for kind, modules in ENTRY_POINTS.items() for module in modules],
)
def test_shipped_code_reaches_no_cli_cdk_or_test_code(entry: Module) -> None:
    chains = GRAPH.forbidden_chains(entry, FORBIDDEN)
    assert not chains, f"{entry.path.relative_to(REPOSITORY)} reaches code that must not ship:\n  " + "\n  ".join(
        chains
    )


def test_runtime_packages_never_import_the_cli_or_the_cdk_app() -> None:
    offending = [
        f"{path.relative_to(REPOSITORY)} imports {name}"
        for path in _python_files(*(REPOSITORY / tree for tree in RUNTIME_TREES))
        for name in GRAPH.forbidden_imports(GRAPH.module_at(path), NEVER_FROM_RUNTIME)
    ]
    assert not offending, "\n".join(offending)


def test_the_walk_follows_lazy_relative_and_package_imports(tmp_path: Path) -> None:
    # Given a handler whose lazy import reaches, through a relative import and a package's __init__, the CLI
    files = {
        "app/__init__.py": "",
        "app/handler.py": "def lambda_handler(event, context):\n    from app import helper\n",
        "app/helper.py": "from .inner import deep\n",
        "app/inner/__init__.py": "import json\nfrom ..sibling import nothing\n",
        "app/inner/deep.py": "VALUE = 1\n",
        "app/sibling.py": "if True:\n    from omni_cli.main import CliError\n",
        "app/through_init.py": "from app.inner.deep import VALUE\n",
        "app/clean.py": "import boto3\nfrom app import util\n",
        "app/util.py": "import json\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = ImportGraph((tmp_path,))
    # When walked
    chains = graph.forbidden_chains(graph.module_at(tmp_path / "app" / "handler.py"), FORBIDDEN)
    # Then the chain names each step; importing a submodule runs its package's __init__; a module reaching
    # nothing forbidden passes
    assert chains == ["app.handler -> app.helper -> app.inner -> app.sibling -> omni_cli.main"]
    assert graph.forbidden_chains(graph.module_at(tmp_path / "app" / "through_init.py"), FORBIDDEN) == [
        "app.through_init -> app.inner -> app.sibling -> omni_cli.main"
    ]
    assert graph.forbidden_chains(graph.module_at(tmp_path / "app" / "clean.py"), FORBIDDEN) == []
