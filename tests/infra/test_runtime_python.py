"""Code shipped to AWS is valid Python for the runtime that runs it, not just for the tests' 3.11.

- Lambda (`python3.14`): the staged `lambdas/` asset must not need anything
  newer (vermin) nor import what 3.12-3.14 removed from the standard library
  (PEP 594's modules, `distutils`, `imp`, `ast.Num`...), which 3.11 still has.
- Glue Python shell (`PythonVersion` "3.9"): each staged script must parse as
  3.9 and need nothing newer (vermin: `match`, `zip(strict=)`, `datetime.UTC`,
  `dataclass(slots=True)`...). `from __future__ import annotations` makes
  `X | None` annotations fine there, but not `X | None` evaluated at run time.

The versions come from the synthesized templates, so a runtime change in
infra is checked without touching this file.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis

# Standard-library modules gone in each Python version (What's New 3.12, 3.13; PEP 594).
REMOVED_MODULES = {
    "3.12": {"asynchat", "asyncore", "distutils", "imp", "smtpd"},
    "3.13": {
        "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap", "msilib", "nis",
        "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "tkinter.tix", "uu", "xdrlib",
    },
}  # fmt: skip
# Names gone from modules that remain (What's New 3.14).
REMOVED_NAMES = {
    "3.14": {
        ("ast", "Num"), ("ast", "Str"), ("ast", "Bytes"), ("ast", "NameConstant"), ("ast", "Ellipsis"),
        ("asyncio", "get_child_watcher"), ("asyncio", "set_child_watcher"), ("asyncio", "AbstractChildWatcher"),
        ("importlib.abc", "ResourceReader"), ("importlib.abc", "Traversable"),
        ("importlib.abc", "TraversableResources"), ("pkgutil", "find_loader"), ("pkgutil", "get_loader"),
        ("sqlite3", "version"), ("sqlite3", "version_info"), ("urllib.request", "URLopener"),
        ("urllib.request", "FancyURLopener"),
    },
}  # fmt: skip
# Builtin types whose `|` at run time (isinstance, aliases) needs 3.10, whatever `__future__` says.
TYPE_NAMES = {"int", "str", "bytes", "float", "bool", "complex", "list", "dict", "set", "frozenset", "tuple", "type"}
VERMIN_TIMEOUT_SECONDS = 120
# vermin has no `python -m vermin`: call its console entry point with this interpreter.
VERMIN = [sys.executable, "-c", "import sys; from vermin import main; sys.exit(main())"]


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def removed_in(target: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The modules and names a Python `target` no longer has."""
    modules = {
        name for version, names in REMOVED_MODULES.items() if _version(version) <= _version(target) for name in names
    }
    members = {
        pair for version, pairs in REMOVED_NAMES.items() if _version(version) <= _version(target) for pair in pairs
    }
    return modules, members


def removed_stdlib_uses(path: Path, target: str) -> list[str]:
    """Each import or attribute of the standard library that Python `target` removed, as `file:line what`."""
    modules, members = removed_in(target)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases: dict[str, str] = {}  # local name -> what it names: `import x.y as z`, `from x import y`
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
                if alias.name in modules or alias.name.split(".")[0] in modules:
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules or node.module.split(".")[0] in modules:
                found.append((node.lineno, f"from {node.module} import ..."))
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if (node.module, alias.name) in members or f"{node.module}.{alias.name}" in modules:
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            owner = aliases.get(ast.unparse(node.value), ast.unparse(node.value))
            if (owner, node.attr) in members:
                found.append((node.lineno, f"{owner}.{node.attr}"))
    return [f"{path}:{line} {what}" for line, what in sorted(found)]


def runtime_unions(path: Path) -> list[str]:
    """`X | Y` of builtin types or None outside annotations: evaluated when run, so 3.10+ (PEP 604)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    annotations = {
        id(inner) for node in ast.walk(tree) for annotation in _annotations(node) for inner in ast.walk(annotation)
    }
    unions = [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)]
    inner = {id(operand) for node in unions for operand in (node.left, node.right)}  # `a | b | c`: report it once
    found = sorted(
        (node.lineno, ast.unparse(node))
        for node in unions
        if id(node) not in annotations and id(node) not in inner and (_is_type(node.left) or _is_type(node.right))
    )
    return [f"{path}:{line} {union}" for line, union in found]


def _annotations(node: ast.AST) -> Iterator[ast.AST]:
    if isinstance(node, ast.AnnAssign):
        yield node.annotation
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        if node.returns is not None:
            yield node.returns
        arguments = node.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            arguments.vararg,
            arguments.kwarg,
        ]:
            if argument is not None and argument.annotation is not None:
                yield argument.annotation


def _is_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Name):
        return node.id in TYPE_NAMES
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_type(node.left) or _is_type(node.right)
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in TYPE_NAMES


def vermin(target: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    """vermin's verdict on `paths` for Python `target` or lower: exit 0 and no violation when they fit."""
    return subprocess.run(  # noqa: S603 - our own interpreter running the installed vermin, no shell
        [*VERMIN, f"--target={target}-", "--violations", "--no-tips", "-vv", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=VERMIN_TIMEOUT_SECONDS,
        check=False,
    )


def lambda_assets(synthesis: Synthesis) -> dict[Path, set[str]]:
    """Each staged function asset folder and the Python versions it runs on."""
    found: dict[Path, set[str]] = {}
    assembly = synthesis.assembly()
    for function in assembly.resources("AWS::Lambda::Function"):
        runtime = str(function.properties.get("Runtime", ""))
        if runtime.startswith("python"):
            found.setdefault(assembly.asset_directory(*function.key), set()).add(runtime.removeprefix("python"))
    return found


def python_shell_scripts(synthesis: Synthesis) -> dict[Path, set[str]]:
    """Each staged Glue Python shell script and the Python versions it runs on."""
    found: dict[Path, set[str]] = {}
    assembly = synthesis.assembly()
    for job in assembly.resources("AWS::Glue::Job"):
        command = job.properties.get("Command", {})
        if command.get("Name") == "pythonshell":
            (asset_hash,) = re.findall(r"/([0-9a-f]{64})\.py", json.dumps(command["ScriptLocation"]))
            script = assembly.staged_asset(job.stack, asset_hash)
            found.setdefault(script, set()).add(command["PythonVersion"])
    return found


def _stage5(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> Synthesis:
    synthesis = syntheses[env, Stage.SEAMLESS]
    assert synthesis.templates, f"{env} did not synthesize: {synthesis.error}"
    return synthesis


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_lambda_code_fits_the_functions_python(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> None:
    assets = lambda_assets(_stage5(syntheses, env))
    assert assets, "no Python function at stage 5"
    for folder, versions in assets.items():
        for version in versions:
            verdict = vermin(version, folder)
            assert verdict.returncode == 0, f"{folder.name} needs more than Python {version}:\n{verdict.stdout}"
            removed = [use for path in sorted(folder.rglob("*.py")) for use in removed_stdlib_uses(path, version)]
            assert removed == [], f"Python {version} no longer has:\n" + "\n".join(removed)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_glue_python_shell_scripts_fit_their_python(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> None:
    scripts = python_shell_scripts(_stage5(syntheses, env))
    assert scripts, "no Glue Python shell job at stage 5"
    for script, versions in scripts.items():
        for version in versions:
            ast.parse(script.read_text(encoding="utf-8"), feature_version=_version(version))
            verdict = vermin(version, script)
            assert verdict.returncode == 0, f"{script.name} needs more than Python {version}:\n{verdict.stdout}"
            assert removed_stdlib_uses(script, version) == []
            if _version(version) < (3, 10):
                assert runtime_unions(script) == []


PLANTED = {
    "match": ("match 1:\n    case _:\n        pass\n", "pattern matching"),
    "zip-strict": ("pairs = zip([1], [2], strict=True)\n", "zip(strict)"),
    "datetime-utc": ("from datetime import UTC\n", "datetime.UTC"),
    "dataclass-slots": (
        "from dataclasses import dataclass\n\n\n@dataclass(slots=True)\nclass A:\n    x: int\n",
        "dataclass(slots)",
    ),
}


@pytest.mark.parametrize(("source", "complaint"), PLANTED.values(), ids=list(PLANTED))
def test_vermin_rejects_what_python_3_9_lacks(tmp_path: Path, source: str, complaint: str) -> None:
    script = tmp_path / "job.py"
    script.write_text(f"from __future__ import annotations\n\n{source}")
    verdict = vermin("3.9", script)
    assert verdict.returncode == 1
    assert complaint in verdict.stdout


def test_annotations_may_use_unions_on_3_9_but_run_time_code_may_not(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(
        "from __future__ import annotations\n\n\n"
        "def f(value: int | None = None) -> str | None:\n"
        "    x: list[int] | None = None\n"
        "    return str(value) if isinstance(value, int | str) else None\n\n\n"
        "Alias = dict[str, int] | int | None\nFLAGS = 1 | 2\n"
    )
    assert vermin("3.9", script).returncode == 0  # vermin does not see run-time unions: hence runtime_unions
    assert [line.split(" ", 1)[1] for line in runtime_unions(script)] == ["int | str", "dict[str, int] | int | None"]


def test_removed_stdlib_uses_are_found_for_the_versions_that_removed_them(tmp_path: Path) -> None:
    module = tmp_path / "handler.py"
    module.write_text(
        "import ast\nimport cgi\nimport importlib.abc as abc\nfrom asyncore import loop\n"
        "from pkgutil import find_loader\nfrom urllib import request\n\n"
        "NODE = ast.Num\nREADER = abc.ResourceReader\nOPENER = request.URLopener\nTREE = ast.parse('1')\n"
    )
    found = [line.split(" ", 1)[1] for line in removed_stdlib_uses(module, "3.14")]
    assert found == [
        "import cgi",
        "from asyncore import ...",
        "from pkgutil import find_loader",
        "ast.Num",
        "importlib.abc.ResourceReader",
        "urllib.request.URLopener",
    ]
    assert [line.split(" ", 1)[1] for line in removed_stdlib_uses(module, "3.12")] == ["from asyncore import ..."]
    assert removed_stdlib_uses(module, "3.11") == []
