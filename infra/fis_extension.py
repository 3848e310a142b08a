"""The AWS FIS extension for Lambda, read from `infra/data/fis_lambda_extension.json`.

FIS's Lambda actions inject their faults through an AWS-managed extension that the
target function loads as a layer. AWS publishes the layer's ARN per region and
architecture as a public SSM parameter, not as a table: a region recorded in the
data file gets that exact layer version; any other region reads the parameter when
CloudFormation deploys the stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

EXTENSION_DATA = Path(__file__).resolve().parent / "data" / "fis_lambda_extension.json"


@dataclass(frozen=True)
class FisExtension:
    ssm_parameters: dict[str, str]  # architecture -> public parameter holding the region's layer ARN
    pinned: dict[str, dict[str, str]]  # region -> architecture -> layer version ARN

    def pinned_arn(self, region: str, architecture: str) -> str | None:
        return self.pinned.get(region, {}).get(architecture)

    def parameter(self, architecture: str) -> str:
        try:
            return self.ssm_parameters[architecture]
        except KeyError:
            raise KeyError(
                f"no FIS extension parameter for architecture {architecture!r} in {EXTENSION_DATA.name} "
                f"(recorded: {sorted(self.ssm_parameters)})"
            ) from None


@cache
def fis_extension(path: Path = EXTENSION_DATA) -> FisExtension:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return FisExtension(
        ssm_parameters=dict(data["ssm_parameters"]),
        pinned={region: dict(layers) for region, layers in data["pinned"]["layers"].items()},
    )
