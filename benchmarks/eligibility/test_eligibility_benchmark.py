"""pytest-benchmark wrappers (`make bench`); `eligibility_benchmark.py` prints every figure."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.eligibility.eligibility_benchmark import cold_import, latency


@pytest.mark.parametrize("module", ["eligibility.handler", "connect_offers.handler"])
def test_cold_import(benchmark: Any, module: str) -> None:
    seconds = benchmark.pedantic(cold_import, args=(module,), kwargs={"runs": 5}, rounds=1, iterations=1)
    benchmark.extra_info.update(median_import_s=seconds)


@pytest.mark.parametrize("path", ["model", "fallback"])
def test_decision_latency(benchmark: Any, path: str) -> None:
    result = benchmark.pedantic(latency, args=(path,), rounds=1, iterations=1)
    benchmark.extra_info.update(p50_ms=result.p50_ms, p99_ms=result.p99_ms, calls=result.calls)
