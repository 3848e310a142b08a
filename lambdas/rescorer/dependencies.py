"""Composition root of the function: the rescorer, built once per execution environment.

Built on first use rather than at import, so a test can swap in other adapters with `use`.
"""

from __future__ import annotations

from rescorer.composition import rescorer_from_settings
from rescorer.rescoring import Rescorer
from rescorer.settings import RescorerSettings

_current: Rescorer | None = None


def current() -> Rescorer:
    global _current  # noqa: PLW0603 - one composition per execution environment, reused across invocations
    if _current is None:
        _current = rescorer_from_settings(RescorerSettings.from_environment())
    return _current


def use(rescorer: Rescorer | None) -> None:
    """Replace the rescorer (None: rebuild it from the environment on next use)."""
    global _current  # noqa: PLW0603 - see current()
    _current = rescorer
