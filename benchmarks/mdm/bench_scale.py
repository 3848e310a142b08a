"""MDM at scale: 1,000,000 synthetic customers on the local DuckDB engine; 100,000 on local Spark beside DuckDB.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.mdm.bench_scale` (part of `make bench`).
Each measurement runs in a fresh process so its peak memory is its own. Targets:
1M on DuckDB in <= 5 minutes and <= 8 GiB peak RSS. The 100k comparison runs the
Glue 5.0 job's `run()` on a local Spark 3.5.4 (2 cores) and the local run on DuckDB,
on the same CSV, both writing the published layout, and reports their time and F1.
MDM_SCALE_RECORDS and MDM_SIDE_BY_SIDE_RECORDS change the sizes (e.g. for a quick check).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from glue_jobs.customer_schema import record_key
from glue_jobs.dedupe import dedupe, write_run
from glue_jobs.evaluation import pairwise_scores
from glue_jobs.synthetic_customers import TRUTH_COLUMN, generate_customers

SCALE_RECORDS = int(os.environ.get("MDM_SCALE_RECORDS", "1000000"))
SCALE_SECONDS = 300.0
SCALE_RSS_GIB = 8.0
SIDE_BY_SIDE_RECORDS = int(os.environ.get("MDM_SIDE_BY_SIDE_RECORDS", "100000"))


@dataclass(frozen=True)
class Measured:
    engine: str
    records: int
    seconds: float
    f1: float
    precision: float
    recall: float
    peak_gib: float


def _truth(customers: pd.DataFrame) -> dict[str, str]:
    keys = (record_key(s, i) for s, i in zip(customers["source_system"], customers["source_id"], strict=True))
    return dict(zip(keys, customers[TRUTH_COLUMN], strict=True))


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux reports KiB


def duckdb_run(csv: Path, output: Path) -> Measured:
    customers = pd.read_csv(csv, dtype=str, keep_default_na=False).replace({"": None})
    truth = _truth(customers)
    started = time.perf_counter()
    result = dedupe(customers.drop(columns=TRUTH_COLUMN))
    write_run(result, output, "20261201T000000Z")
    seconds = time.perf_counter() - started
    scores = pairwise_scores(result.clusters, truth)
    return Measured("duckdb", len(customers), seconds, scores.f1, scores.precision, scores.recall, _peak_gib())


def spark_run(csv: Path, output: Path) -> Measured:
    import json  # noqa: PLC0415

    from glue_jobs.local_spark import local_session  # noqa: PLC0415
    from glue_jobs.splink_job import SplinkJobOptions, run  # noqa: PLC0415

    customers = pd.read_csv(csv, dtype=str, keep_default_na=False)
    truth = _truth(customers)
    spark = local_session(driver_memory="6g")
    options = SplinkJobOptions(
        input_path=str(csv), output_path=str(output), temp_dir=str(output / "tmp"), run_id="20261201T000000Z"
    )
    started = time.perf_counter()
    manifest = run(spark, options)
    seconds = time.perf_counter() - started
    clusters = {
        member: golden["golden_id"]
        for part in sorted((output / manifest["prefixes"]["golden_records"]).glob("part-*"))
        for golden in map(json.loads, part.read_text().splitlines())
        for member in golden["members"]
    }
    jvm = spark.sparkContext._gateway.proc.pid
    jvm_peak_kib = next(
        int(line.split()[1])
        for line in Path(f"/proc/{jvm}/status").read_text().splitlines()
        if line.startswith("VmHWM")
    )
    scores = pairwise_scores(clusters, truth)
    peak = _peak_gib() + jvm_peak_kib / 1024**2  # the Python driver and the JVM that runs every task
    spark.stop()
    return Measured("spark", len(customers), seconds, scores.f1, scores.precision, scores.recall, peak)


def _child(target: str, csv: Path, output: Path, queue: multiprocessing.Queue[Measured]) -> None:
    queue.put({"duckdb": duckdb_run, "spark": spark_run}[target](csv, output))


def _in_fresh_process(target: str, csv: Path, output: Path) -> Measured:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[Measured] = context.Queue()
    child = context.Process(target=_child, args=(target, csv, output, queue))
    child.start()
    measured = queue.get()
    child.join()
    return measured


def _say(measured: Measured) -> None:
    sys.stdout.write(
        f"{measured.engine:7s} {measured.records:>9,} records: wall {measured.seconds:7.1f}s  peak {measured.peak_gib:5.2f} GiB  "
        f"F1 {measured.f1:.4f} (precision {measured.precision:.4f}, recall {measured.recall:.4f})\n"
    )
    sys.stdout.flush()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mdm-scale-") as folder:
        root = Path(folder)
        side = root / "side.csv"
        generate_customers(SIDE_BY_SIDE_RECORDS, seed=11).to_csv(side, index=False)
        # Each figure is printed as soon as it is measured: a later measurement may run for long.
        on_duckdb = _in_fresh_process("duckdb", side, root / "duckdb-100k")
        _say(on_duckdb)
        on_spark = _in_fresh_process("spark", side, root / "spark-100k")
        _say(on_spark)
        sys.stdout.write(
            f"{SIDE_BY_SIDE_RECORDS:,} Spark/DuckDB wall-time ratio: {on_spark.seconds / on_duckdb.seconds:.2f}\n"
        )

        scale = root / "scale.csv"
        generate_customers(SCALE_RECORDS, seed=7).to_csv(scale, index=False)
        big = _in_fresh_process("duckdb", scale, root / "duckdb-scale")
        _say(big)
    met = big.seconds <= SCALE_SECONDS and big.peak_gib <= SCALE_RSS_GIB
    sys.stdout.write(
        f"{SCALE_RECORDS:,} on DuckDB: targets <= {SCALE_SECONDS:.0f}s and <= {SCALE_RSS_GIB:.0f} GiB: "
        + ("met\n" if met else "MISSED\n")
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
