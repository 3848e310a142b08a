"""The five stages of the omnichannel maturity model: the unit of rollout."""

from __future__ import annotations

from enum import IntEnum


class Stage(IntEnum):
    DISJOINTED = 1
    CONSISTENT = 2
    INTEGRATED = 3
    ORCHESTRATED = 4
    SEAMLESS = 5

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def label(self) -> str:
        return f"{self.value} {self.title}"

    @classmethod
    def allowed(cls) -> str:
        return ", ".join(stage.label for stage in cls)
