"""Composition root of the function: the rescorer, built once per execution environment.

Built on first use rather than at import, so a test can swap in other adapters with `use`.
"""

from __future__ import annotations

from omni_domain.wiring import Wiring
from rescorer.composition import rescorer_from_settings
from rescorer.rescoring import Rescorer
from rescorer.settings import RescorerSettings

# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[Rescorer] = Wiring(lambda: rescorer_from_settings(RescorerSettings.from_environment()))
current = wiring.current
use = wiring.use
