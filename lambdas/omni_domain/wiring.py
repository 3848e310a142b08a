"""The one way a function wires its dependencies: built lazily from the environment, overridable, resettable.

A handler's composition root declares `wiring = Wiring(build)`, where `build()`
reads the function's settings from the environment and creates its AWS clients.
The handler calls `wiring.current()` on each invocation: the first call builds,
later calls reuse what it built for the life of the execution environment.

A test (or a benchmark) swaps in fakes with `wiring.use(fakes)`; `use(None)`
drops the override and rebuilds from the environment on next use. `reset_all()`
forgets what every wiring built, in one call: the offline platform calls it
before it runs a handler package with another function's environment, and a
test can call it to start from a clean slate.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Wiring(Generic[T]):
    """What one function runs on, built by `build` on first use and kept until `use` or `reset_all`."""

    __slots__ = ("__weakref__", "_build", "_current")

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._current: T | None = None
        _REGISTERED.add(self)

    def current(self) -> T:
        if self._current is None:
            self._current = self._build()
        return self._current

    def use(self, override: T | None) -> None:
        """Replace what `current` returns (None: rebuild it from the environment on next use)."""
        self._current = override

    def reset(self) -> None:
        self._current = None


# Weak: a wiring lives as long as the module that declared it (a test's own wirings go with the test).
_REGISTERED: weakref.WeakSet[Wiring[Any]] = weakref.WeakSet()


def reset_all() -> None:
    """Forget what every wiring built or was given: each rebuilds from the environment on next use."""
    for wiring in list(_REGISTERED):
        wiring.reset()
