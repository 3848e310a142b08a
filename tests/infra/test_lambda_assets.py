"""Each function's asset holds what its handler reaches, and nothing else.

The walk itself (`infra/lambda_assets.py`) is checked on small made-up trees;
then every Python function of the synthesized stage-5 apps is listed file by
file from its staged asset in the cloud assembly: exactly the files its handler
reaches, so no command line, no in-memory fake, no document generator and no
other function's package ships in it.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import pytest

from infra.lambda_assets import LAMBDA_ASSET_ROOT, UnreadableImportError, asset_excludes, handler_files
from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _names(files: frozenset[PurePosixPath]) -> set[str]:
    return {str(path) for path in files}


def test_the_walk_follows_absolute_relative_submodule_and_lazy_imports_with_their_packages(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/__init__.py": "from shop import constants\n",
            "shop/constants.py": "",
            "shop/handler.py": (
                "import json\nimport boto3\nfrom .routes import orders\nfrom shop.settings import Settings\n"
                "def lambda_handler(event, context):\n    from domain.rules import rule\n    return rule\n"
            ),
            "shop/routes/__init__.py": "",
            "shop/routes/orders.py": "from ..models import Order\n",
            "shop/models.py": "",
            "shop/settings.py": "import importlib\nFORMAT = importlib.import_module('domain.formats')\n",
            "shop/cli.py": "from shop.handler import lambda_handler\n",
            "shop/memory.py": "",
            "domain/__init__.py": "",
            "domain/rules.py": "",
            "domain/formats.py": "",
            "domain/generator.py": "",
            "domain/limits.json": "{}",
            "other/__init__.py": "",
            "other/handler.py": "",
        },
    )
    assert _names(handler_files("shop.handler.lambda_handler", root)) == {
        "shop/__init__.py",
        "shop/constants.py",
        "shop/handler.py",
        "shop/routes/__init__.py",
        "shop/routes/orders.py",
        "shop/models.py",
        "shop/settings.py",
        "domain/__init__.py",
        "domain/rules.py",
        "domain/formats.py",
        "domain/limits.json",
    }


def test_a_computed_import_stops_the_walk_naming_the_file(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"shop/__init__.py": "", "shop/handler.py": "import importlib\nimportlib.import_module('shop.' + 'x')\n"},
    )
    with pytest.raises(UnreadableImportError, match=r"shop/handler\.py:2"):
        handler_files("shop.handler.lambda_handler", root)


def test_a_handler_that_is_not_there_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no module .shop\.handler."):
        handler_files("shop.handler.lambda_handler", tmp_path)


def test_excludes_are_anchored_so_a_kept_file_of_the_same_name_elsewhere_stays(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/handler.py": "from shop import cli\n",
            "shop/cli.py": "",
            "shop/memory.py": "",
            "shop/__pycache__/handler.cpython-314.pyc": "",
            "other/__init__.py": "",
            "other/handler.py": "",
            "other/cli.py": "",
            "handler.py": "",
        },
    )
    assert asset_excludes("shop.handler.lambda_handler", root) == [
        "/handler.py",
        "/other",
        "/shop/__pycache__",
        "/shop/memory.py",
    ]


def _python_functions(synthesis: Synthesis) -> list[tuple[str, str, Path]]:
    """(logical id, handler, staged asset folder) of every Python function, as the stack's asset manifest stages it."""
    assembly = synthesis.assembly()
    return [
        (function.logical_id, function.properties["Handler"], assembly.asset_directory(*function.key))
        for function in assembly.resources("AWS::Lambda::Function")
        if str(function.properties.get("Runtime", "")).startswith("python")
    ]


def _asset_files(folder: Path) -> set[str]:
    return {
        Path(directory, name).relative_to(folder).as_posix()
        for directory, _, names in os.walk(folder)
        for name in names
    }


def _entry_points() -> set[str]:
    """Modules under lambdas/ that run as a command (`python -m ...`): document generators and the like."""
    return {
        path.relative_to(LAMBDA_ASSET_ROOT).as_posix()
        for path in LAMBDA_ASSET_ROOT.rglob("*.py")
        if any(
            isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
            for node in ast.parse(path.read_text()).body
        )
    }


def test_the_generators_are_found() -> None:
    # The check below is only as good as this list: it must see the OpenAPI and JSON Schema generators.
    assert {"profiles/openapi.py", "eligibility/openapi.py", "state_publisher/schema.py"} <= _entry_points()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_function_ships_exactly_what_its_handler_reaches(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    synthesis = syntheses[env, Stage.SEAMLESS]
    assert synthesis.templates, f"{env} did not synthesize: {synthesis.error}"
    functions = _python_functions(synthesis)
    assert functions
    entry_points = _entry_points()
    for logical_id, handler, folder in functions:
        files = _asset_files(folder)
        where = f"{env} {logical_id} ({handler})"
        assert files == _names(handler_files(handler)), where
        assert not {name for name in files if name.endswith(("cli.py", ".pyc")) or "__pycache__" in name}, where
        assert not {name for name in files if "memory" in name or name.startswith("omni_testing/")}, where
        assert not files & entry_points, f"{where} ships a command-line entry point"
        assert handler.rpartition(".")[0].replace(".", "/") + ".py" in files, where
    # Functions of different packages no longer share one asset of everything.
    assert len({folder for _, _, folder in functions}) == len({handler for _, handler, _ in functions})
