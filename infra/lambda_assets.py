"""What each function's asset holds: the files under `lambdas/` its handler reaches, and nothing else.

The handler module's imports are followed statically (`ast`), transitively,
inside `lambdas/`: every module imported anywhere in a reached module (inside
functions too, so lazy imports ship), with the `__init__.py` of each package on
the way, since importing a module runs its packages first. Anything outside
`lambdas/` (the standard library, boto3, the Powertools layer) is the runtime's.
A package's JSON files ship with it (data the code reads beside itself, as the
editable install's package data). CLI modules, in-memory fakes, document
generators and the rest of `lambdas/` are never imported by a handler, so they
stay out; `tests/infra/test_lambda_assets.py` checks the synthesized assets.

An import the walk cannot read (`importlib.import_module` of a computed name)
stops synthesis naming the file, rather than shipping an asset that fails on
its first invocation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

LAMBDA_ASSET_ROOT = Path(__file__).resolve().parents[1] / "lambdas"
# Files a package reads at run time from beside its modules.
DATA_SUFFIXES = frozenset({".json"})
_DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})
# gitignore's special characters: a file name holding one is matched literally.
_GITIGNORE_SPECIAL = str.maketrans({character: "\\" + character for character in "\\*?[]!#"})


class UnreadableImportError(ValueError):
    """A module imports a name the static walk cannot know (computed at run time)."""


def module_file(module: str, root: Path = LAMBDA_ASSET_ROOT) -> Path | None:
    """The file of `module` under `root` (a module or a package), None when it lives elsewhere."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(tree: ast.Module, module: str, *, is_package: bool, path: Path) -> Iterator[str]:
    """Every module name `tree` may import: `a.b` for `import a.b`, `a` and `a.x` for `from a import x`."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and _called_name(node.func) in _DYNAMIC_IMPORTS:
            argument = node.args[0] if node.args else None
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                raise UnreadableImportError(f"{path}:{node.lineno}: the asset walk cannot follow a computed import")
            yield argument.value


def _called_name(function: ast.expr) -> str | None:
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _with_packages(module: str) -> Iterator[str]:
    """`a.b.c` -> `a`, `a.b`, `a.b.c`: importing a module imports each package above it first."""
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


def handler_files(handler: str, root: Path = LAMBDA_ASSET_ROOT) -> frozenset[PurePosixPath]:
    """The files (relative to `root`) that `handler` (`package.module.function`) reaches."""
    start = handler.rpartition(".")[0]
    if module_file(start, root) is None:
        raise ValueError(f"handler {handler!r}: no module {start!r} under {root}")
    reached: set[Path] = set()
    todo = [start]
    while todo:
        for name in _with_packages(todo.pop()):
            path = module_file(name, root)
            if path is None or path in reached:
                continue
            reached.add(path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            todo.extend(_imported(tree, name, is_package=path.name == "__init__.py", path=path))
    data = {
        candidate
        for path in reached
        if path.name == "__init__.py"
        for candidate in path.parent.iterdir()
        if candidate.is_file() and candidate.suffix in DATA_SUFFIXES
    }
    return frozenset(PurePosixPath(path.relative_to(root).as_posix()) for path in reached | data)


def asset_excludes(handler: str, root: Path = LAMBDA_ASSET_ROOT) -> list[str]:
    """Patterns (gitignore syntax, anchored at `root`) leaving exactly `handler_files` in the asset.

    A folder holding nothing the handler reaches is excluded whole; in one that
    does, each other entry is excluded by name. Sorted, so the asset's hash does
    not depend on the order the file system lists entries in.
    """
    keep = handler_files(handler, root)
    needed_folders = {parent for path in keep for parent in path.parents}
    patterns: list[str] = []

    def walk(folder: Path) -> None:
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
            relative = PurePosixPath(entry.relative_to(root).as_posix())
            if entry.is_dir() and not entry.is_symlink() and relative in needed_folders:
                walk(entry)
            elif relative not in keep:
                patterns.append("/" + str(relative).translate(_GITIGNORE_SPECIAL))

    walk(root)
    return patterns
