"""What to remove of the retraining pipeline's models and endpoint configs, decided without AWS.

Each run of the pipeline creates a model and an endpoint config of one name (`propensity-<execution>`)
and nothing removes them, so they pile up weekly. The plan keeps the `keep` newest runs (by creation
time) and, whatever their age, every endpoint config an endpoint uses and every model such a config
names; everything else the pipeline made is removed, endpoint configs first (a model is never removed
before a config that names it). While an endpoint is being created or updated nothing is removed: the
config it is leaving may still serve, and no API says which one that is until it settles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    MODEL = "model"
    ENDPOINT_CONFIG = "endpoint-config"


@dataclass(frozen=True, slots=True, order=True)
class Artefact:
    kind: Kind
    name: str
    created: datetime


# An endpoint in any other state is moving between configs.
SETTLED_ENDPOINT_STATES = frozenset({"InService", "OutOfService", "Failed"})


@dataclass(frozen=True, slots=True)
class Inventory:
    """The pipeline's artefacts (tagged as its own) and what the endpoints use."""

    artefacts: tuple[Artefact, ...]
    configs_in_use: frozenset[str] = frozenset()
    models_in_use: frozenset[str] = frozenset()
    # "name (status)" of each endpoint that is not settled.
    unsettled_endpoints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    keep: tuple[Artefact, ...]
    remove: tuple[Artefact, ...]  # in the order to remove them: endpoint configs, then models; oldest first
    in_use: frozenset[Artefact] = field(default_factory=frozenset)
    blocked_by: tuple[str, ...] = ()  # unsettled endpoints: nothing is removed


def plan(inventory: Inventory, *, keep: int) -> Plan:
    if keep < 0:
        raise ValueError(f"keep must be 0 or more, not {keep}")
    artefacts = tuple(sorted(inventory.artefacts, key=lambda a: (a.created, a.name), reverse=True))
    in_use = frozenset(a for a in artefacts if _used(a, inventory))
    if inventory.unsettled_endpoints:
        return Plan(keep=artefacts, remove=(), in_use=in_use, blocked_by=inventory.unsettled_endpoints)
    kept_runs = set(_newest_runs(artefacts, keep))
    kept = tuple(a for a in artefacts if a.name in kept_runs or a in in_use)
    removed = sorted(
        (a for a in artefacts if a not in kept),
        key=lambda a: (a.kind is Kind.MODEL, a.created, a.name),
    )
    return Plan(keep=kept, remove=tuple(removed), in_use=in_use)


def _used(artefact: Artefact, inventory: Inventory) -> bool:
    if artefact.kind is Kind.ENDPOINT_CONFIG:
        return artefact.name in inventory.configs_in_use
    return artefact.name in inventory.models_in_use


def _newest_runs(newest_first: Iterable[Artefact], keep: int) -> list[str]:
    """The names of the `keep` newest runs (a run's model and config share its name)."""
    runs: list[str] = []
    for artefact in newest_first:
        if len(runs) == keep:
            break
        if artefact.name not in runs:
            runs.append(artefact.name)
    return runs
