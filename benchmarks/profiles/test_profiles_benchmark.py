"""pytest-benchmark wrappers (`make bench`); `profiles_benchmark.py` prints every figure and the ratios."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.profiles.profiles_benchmark import cold_import, latency


@pytest.mark.parametrize("tracing", [True, False], ids=["with-tracer", "without-tracer"])
def test_cold_import(benchmark: Any, tracing: bool) -> None:
    result = benchmark.pedantic(cold_import, kwargs={"tracing": tracing, "runs": 5}, rounds=1, iterations=1)
    benchmark.extra_info.update(median_import_s=result.median_import, median_process_s=result.median_process)


@pytest.mark.parametrize("store", ["memory", "moto"])
@pytest.mark.parametrize("route", ["GET", "PATCH"])
def test_latency(benchmark: Any, store: str, route: str) -> None:
    result = benchmark.pedantic(latency, args=(store, route), rounds=1, iterations=1)
    benchmark.extra_info.update(p50_ms=result.p50_ms, p99_ms=result.p99_ms, calls=result.calls)
