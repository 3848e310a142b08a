"""What every step shares: the provisioned platform, the sizes, the seed, the clock and the progress lines."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from sandbox.faults import FaultInjector
from sandbox.platform import LocalPlatform


@dataclass(frozen=True, slots=True)
class Sizes:
    customers: int  # source customer records across the source systems (duplicates included)
    journeys: int
    seed: int


class Progress:
    """Progress lines with the elapsed time, printed as the run goes and kept for the report."""

    def __init__(self, stream: TextIO | None = sys.stderr) -> None:
        self.started = time.perf_counter()
        self.stream = stream
        self.lines: list[str] = []

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        line = f"[{self.elapsed:5.1f}s] {message}"
        self.lines.append(line)
        if self.stream is not None:
            print(line, file=self.stream, flush=True)

    def step(self, name: str) -> Callable[[str], None]:
        return lambda message: self(f"{name}: {message}")


@dataclass(frozen=True, slots=True)
class GoldenCustomer:
    """One published golden customer, as the later steps address it."""

    golden_id: str
    first_name: str | None
    email: str | None
    phone: str | None
    intent: float = 0.0  # the hidden propensity the journey generator gives this customer (the model's target)


@dataclass
class RunContext:
    platform: LocalPlatform
    sizes: Sizes
    workdir: Path
    progress: Progress
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    rng: random.Random = field(default_factory=random.Random)
    shard_iterators: dict[str, str] = field(default_factory=dict)  # where the stream's poller left off, per shard
    faults: FaultInjector | None = None  # `--faults`: what is injected into the handlers' calls, and what absorbed it

    def __post_init__(self) -> None:
        self.rng.seed(self.sizes.seed)
