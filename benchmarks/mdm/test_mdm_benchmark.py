"""pytest-benchmark wrappers (`make bench`); `mdm_benchmark.py` prints the ratio and peak RSS."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.mdm.mdm_benchmark import run_engine_febrl3, run_plain_splink_febrl3, run_synthetic


def test_febrl3_engine(benchmark: Any) -> None:
    result = benchmark.pedantic(run_engine_febrl3, rounds=3, iterations=1)
    benchmark.extra_info["f1"] = result.scores.f1
    if result.scores.f1 < 0.99:
        pytest.fail(f"FEBRL3 F1 {result.scores.f1:.4f} below the 0.99 target")


def test_febrl3_plain_splink_baseline(benchmark: Any) -> None:
    result = benchmark.pedantic(run_plain_splink_febrl3, rounds=3, iterations=1)
    benchmark.extra_info["f1"] = result.scores.f1


def test_synthetic_100k(benchmark: Any) -> None:
    timed, peak_gib = benchmark.pedantic(run_synthetic, rounds=1, iterations=1)
    benchmark.extra_info.update(f1=timed.scores.f1, peak_rss_gib=peak_gib, clusters=timed.scores.clusters)
    if timed.seconds > 120:
        pytest.fail(f"100k synthetic records took {timed.seconds:.0f}s, target 120s")
