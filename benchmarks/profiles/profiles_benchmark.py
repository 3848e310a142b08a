"""Profile service benchmarks: cold import of the handler, and in-process latency of GET and PATCH.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.profiles.profiles_benchmark`
(or `make bench` for the pytest-benchmark wrappers). Figures are for comparison
on one machine (ratios), not Lambda predictions.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from omni_domain.profile_service import ProfileService
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from profiles import dependencies
from profiles.writes import CustomerWrites, idempotency_config
from tests.lambdas.conftest import REGION, TABLES, FakeLambdaContext, api_event, create_tables

REPOSITORY = Path(__file__).resolve().parents[2]
Store = Literal["memory", "moto"]
Route = Literal["GET", "PATCH"]
IMPORT_PROBE = "import time; t = time.perf_counter(); import profiles.handler; print(time.perf_counter() - t)"
BASE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "POWERTOOLS_SERVICE_NAME": "profiles",
    "POWERTOOLS_METRICS_NAMESPACE": "omni-cx-benchmark",
    **TABLES,
}


@dataclass(frozen=True)
class ImportTimes:
    tracing: bool
    import_seconds: list[float]  # `import profiles.handler`, measured inside the fresh process
    process_seconds: list[float]  # the whole fresh process: interpreter start, import, exit

    @property
    def median_import(self) -> float:
        return statistics.median(self.import_seconds)

    @property
    def median_process(self) -> float:
        return statistics.median(self.process_seconds)


def cold_import(*, tracing: bool, runs: int = 7) -> ImportTimes:
    """Import the handler module in fresh interpreters, as Lambda's init does, with the Tracer on or off."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPOSITORY / "lambdas"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **BASE_ENVIRONMENT,
        "LAMBDA_TASK_ROOT": "/var/task",  # what makes Powertools (and this service) trace
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    imports, processes = [], []
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(  # noqa: S603 - the interpreter running this benchmark
            [sys.executable, "-c", IMPORT_PROBE], env=environment, capture_output=True, text=True, check=True
        )
        processes.append(time.perf_counter() - started)
        imports.append(float(completed.stdout.strip().splitlines()[-1]))
    return ImportTimes(tracing=tracing, import_seconds=imports, process_seconds=processes)


@dataclass(frozen=True)
class Latency:
    store: Store
    route: Route
    calls: int
    p50_ms: float
    p99_ms: float


def _handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    # Powertools reads its environment when the handler module is imported, as in Lambda: set it first.
    os.environ.update(BASE_ENVIRONMENT)
    from profiles.handler import lambda_handler  # noqa: PLC0415 - imported once the environment is set

    return lambda_handler


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Logs and EMF metrics are still formatted (that is part of the cost), then discarded."""
    from profiles.observability import logger  # noqa: PLC0415 - see _handler

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        streams = [(handler, handler.setStream(sink)) for handler in logger.handlers if hasattr(handler, "setStream")]
        try:
            yield
        finally:
            for handler, stream in streams:
                handler.setStream(stream)


@contextlib.contextmanager
def _wired(store: Store) -> Iterator[None]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        if store == "moto":
            create_tables(client)
            dependencies.use(None)
        else:
            identities = InMemoryIdentityMap()
            service = ProfileService(customers=InMemoryCustomerRepository(identities), identities=identities)
            # Requests carry no Idempotency-Key, so the persistence layer is never called.
            unused = DynamoDBPersistenceLayer(table_name="unused", boto3_client=client)
            dependencies.use(
                dependencies.Dependencies(service, CustomerWrites(service, unused, idempotency_config(3600)))
            )
        try:
            yield
        finally:
            dependencies.use(None)


def latency(store: Store, route: Route, *, calls: int = 1000) -> Latency:
    """p50/p99 of `calls` in-process invocations of the handler (events built beforehand)."""
    lambda_handler = _handler()
    context = FakeLambdaContext()
    with _wired(store), _quiet():
        created = lambda_handler(api_event("put_customer", headers={"Idempotency-Key": None}), context)
        if created["statusCode"] != 201:
            raise RuntimeError(f"setup failed: {created['body']}")
        if route == "GET":
            events = [api_event("get_customer") for _ in range(calls)]
        else:
            events = [
                api_event(
                    "patch_customer",
                    headers={"If-Match": f'"{version}"', "Idempotency-Key": None},
                    body={"preferred_channel": "sms" if version % 2 else "email"},
                )
                for version in range(1, calls + 1)
            ]
        timings = _timed(lambda event: lambda_handler(event, context), events)
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    return Latency(store=store, route=route, calls=calls, p50_ms=percentiles[49], p99_ms=percentiles[98])


def _timed(call: Callable[[dict[str, Any]], dict[str, Any]], events: list[dict[str, Any]]) -> list[float]:
    timings = []
    for event in events:
        started = time.perf_counter_ns()
        response = call(event)
        timings.append((time.perf_counter_ns() - started) / 1e6)
        if response["statusCode"] >= 300:
            raise RuntimeError(f"unexpected answer {response['statusCode']}: {response['body']}")
    return timings


def main() -> None:
    with_tracer, without_tracer = cold_import(tracing=True), cold_import(tracing=False)
    results = {
        "cold_import": {
            "with_tracer_s": round(with_tracer.median_import, 3),
            "without_tracer_s": round(without_tracer.median_import, 3),
            "ratio": round(with_tracer.median_import / without_tracer.median_import, 2),
            "process_with_tracer_s": round(with_tracer.median_process, 3),
            "process_without_tracer_s": round(without_tracer.median_process, 3),
        },
        "latency_ms": {},
    }
    by_key = {(store, route): latency(store, route) for store in ("memory", "moto") for route in ("GET", "PATCH")}
    for (store, route), figures in by_key.items():
        results["latency_ms"][f"{route} {store}"] = {"p50": round(figures.p50_ms, 3), "p99": round(figures.p99_ms, 3)}
    for route in ("GET", "PATCH"):
        memory, moto = by_key[("memory", route)], by_key[("moto", route)]
        results["latency_ms"][f"{route} moto/memory p50 ratio"] = round(moto.p50_ms / memory.p50_ms, 1)
    print(json.dumps(results, indent=2))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
