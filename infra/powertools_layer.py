"""The public Powertools layer the functions load, read from `infra/data/powertools_layer.json`.

Powertools and pydantic are not in the function asset: they come from AWS's
public layer, whose version number says nothing about the release inside. The
data file records, per layer version an environment may name in `cdk.json`,
the Powertools release it holds, so the tests can install and run exactly that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LAYER_DATA = Path(__file__).resolve().parent / "data" / "powertools_layer.json"


@dataclass(frozen=True)
class LayerRelease:
    """What one version of the layer contains."""

    layer_version: int
    powertools: str
    pydantic_major: int
    pydantic_exact: str | None


@dataclass(frozen=True)
class PowertoolsLayer:
    name: str
    publisher_account: str
    runtime: str
    runtime_provided: tuple[str, ...]
    releases: dict[int, LayerRelease]

    def release(self, layer_version: int) -> LayerRelease:
        try:
            return self.releases[layer_version]
        except KeyError:
            raise KeyError(
                f"layer version {layer_version} has no record in {LAYER_DATA.name}: add what it contains "
                f"(recorded: {sorted(self.releases)})"
            ) from None


@cache
def powertools_layer(path: Path = LAYER_DATA) -> PowertoolsLayer:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    releases = {
        int(number): LayerRelease(
            layer_version=int(number),
            powertools=entry["aws_lambda_powertools"],
            pydantic_major=int(entry["pydantic"]["major"]),
            pydantic_exact=entry["pydantic"]["exact"],
        )
        for number, entry in data["versions"].items()
    }
    return PowertoolsLayer(
        name=data["layer_name"],
        publisher_account=data["publisher_account"],
        runtime=data["runtime"],
        runtime_provided=tuple(data["build"]["removed_because_the_runtime_provides_them"]),
        releases=releases,
    )
