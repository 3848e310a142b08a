"""pytest-benchmark wrappers (`make bench`); `events_benchmark.py` prints every figure."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.events.events_benchmark import throughput


@pytest.mark.parametrize("store", ["memory", "moto"])
def test_throughput(benchmark: Any, store: str) -> None:
    result = benchmark.pedantic(throughput, args=(store,), rounds=1, iterations=1)
    benchmark.extra_info.update(
        records_per_second=result.records_per_second,
        customers=result.customers,
        state_writes=result.state_writes,
        dynamodb_requests=result.dynamodb_requests,
    )
