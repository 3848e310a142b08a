"""Import one handler the way Lambda does on a cold start, then say where every module came from.

Run by `test_cold_start.py` as `python -I -S -B cold_start_probe.py HANDLER ROOT...`:
isolated, without site-packages, so the only code within reach is the
standard library and the ROOTs (the function's asset, the Powertools layer,
the runtime's boto3), in Lambda's order. Prints one JSON object: the modules
loaded from anywhere else. Exits 1 on any of them, and on an import error
(with its traceback), as Lambda's init would fail.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import sysconfig
from collections.abc import Iterator
from typing import Any


def _refuse_network(*_args: Any, **_kwargs: Any) -> Any:
    # A cold start that reaches the network here would hang or pass by luck: make it an error.
    raise OSError("the handler tried to use the network while importing")


def _block_network() -> None:
    socket.socket.connect = _refuse_network  # type: ignore[method-assign]
    socket.socket.connect_ex = _refuse_network  # type: ignore[method-assign]
    socket.socket.sendto = _refuse_network  # type: ignore[method-assign]
    socket.getaddrinfo = _refuse_network


def _stdlib_roots() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({os.path.abspath(paths[key]) for key in ("stdlib", "platstdlib")})


def _module_paths() -> Iterator[tuple[str, str]]:
    itself = os.path.abspath(__file__)
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None)
        if location and os.path.abspath(location) == itself:
            continue  # this probe, as __main__ (and multiprocessing's alias of it)
        if location:
            yield name, os.path.abspath(location)
        elif getattr(module, "__path__", None) is not None:  # namespace package: every folder it spans
            for folder in module.__path__:
                yield name, os.path.abspath(folder)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _allowed(path: str, roots: list[str], stdlib: list[str]) -> bool:
    if any(_inside(path, root) for root in roots):
        return True
    # The interpreter's own site-packages sits inside its stdlib folder and is not the runtime's.
    in_stdlib = any(_inside(path, root) for root in stdlib)
    return in_stdlib and not {"site-packages", "dist-packages"} & set(path.split(os.sep))


def _settings_problems(package: str, handler_module: Any) -> list[str]:
    """What stops the package's settings classes from being built from this environment."""
    modules = [handler_module]
    try:
        modules.append(importlib.import_module(f"{package}.settings"))
    except ModuleNotFoundError as error:
        if error.name != f"{package}.settings":
            raise
    problems = []
    for module in modules:
        for name, value in vars(module).items():
            builder = getattr(value, "from_environment", None)
            if not isinstance(value, type) or value.__module__ != module.__name__ or not callable(builder):
                continue
            try:
                builder()
            except Exception as error:  # noqa: BLE001 - reported: the function would fail its first invocation
                problems.append(f"{module.__name__}.{name}.from_environment(): {type(error).__name__}: {error}")
    return problems


def main(argv: list[str]) -> int:
    handler, *roots = argv
    roots = [os.path.abspath(root) for root in roots]
    sys.path[:0] = roots
    _block_network()
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name)
    if not callable(getattr(module, function_name, None)):
        print(json.dumps({"error": f"{handler}: {module_name} has no callable {function_name}"}))
        return 1
    settings = _settings_problems(module_name.split(".", 1)[0], module)
    stdlib = _stdlib_roots()
    strays = sorted(f"{name} from {path}" for name, path in _module_paths() if not _allowed(path, roots, stdlib))
    print(json.dumps({"modules": len(sys.modules), "strays": strays, "settings": settings}))
    return 1 if strays or settings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
