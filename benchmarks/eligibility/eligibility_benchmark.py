"""Eligibility benchmarks: cold import of both handlers, and in-process decision latency through the API handler
with the model stubbed and on the fallback path (rules alone), over in-memory stores.

Run: `PYTHONPATH=.:lambdas .venv/bin/python -m benchmarks.eligibility.eligibility_benchmark`
(or `make bench`). Figures compare paths on one machine; they are not Lambda predictions.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from eligibility.decisions import EligibilityService
from eligibility.rule_sets import RuleSet, RuleSetDocument
from eligibility.scoring import NoModel
from omni_domain.models import ConsentDecision, CustomerProfile, LiveState, ProfileAttributes, RollingSpend
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_testing.eligibility import InMemoryDecisionLog, InMemoryRuleSetStore
from tests.lambdas.conftest import CUSTOMER_ID, REGION, FakeLambdaContext, api_event, load_event

REPOSITORY = Path(__file__).resolve().parents[2]
Path_ = Literal["model", "fallback"]
BASE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "POWERTOOLS_SERVICE_NAME": "eligibility",
    "POWERTOOLS_METRICS_NAMESPACE": "omni-cx-benchmark",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "CUSTOMER_TABLE_NAME": "customers",
    "RULES_TABLE_NAME": "rules",
    "DECISIONS_TABLE_NAME": "decisions",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "OFFER_CHECK_PRODUCT": "broadband",
}


def cold_import(module: str, *, runs: int = 7) -> float:
    """Median seconds to import a handler module in a fresh interpreter, as Lambda's init does (no Tracer)."""
    probe = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPOSITORY / "lambdas"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **BASE_ENVIRONMENT,
    }
    seconds = []
    for _ in range(runs):
        completed = subprocess.run(  # noqa: S603 - the interpreter running this benchmark
            [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
        )
        seconds.append(float(completed.stdout.strip().splitlines()[-1]))
    return statistics.median(seconds)


class StubbedModel:
    """The endpoint answered instantly: what the decision costs around the model call."""

    def score(self, features: Any) -> float:
        return 0.3


@dataclass(frozen=True)
class Latency:
    path: Path_
    calls: int
    p50_ms: float
    p99_ms: float


def _service(path: Path_) -> EligibilityService:
    now = datetime.now(UTC)
    customers = InMemoryCustomerRepository(InMemoryIdentityMap())
    customers.profiles[CUSTOMER_ID] = CustomerProfile(
        customer_id=CUSTOMER_ID,
        attributes=ProfileAttributes(first_name="Ada"),
        consent={"contact_centre": {"marketing": ConsentDecision(granted=True, decided_at=now)}},
        version=1,
        created_at=now - timedelta(days=800),
        updated_at=now,
    )
    customers.live_states[CUSTOMER_ID] = LiveState(
        rolling_spend=RollingSpend(last_30_days=Decimal(60), last_365_days=Decimal(820))
    )
    rule_sets = InMemoryRuleSetStore()
    document = RuleSetDocument.model_validate_json(load_event("put_rule_set")["body"])
    rule_sets.put(RuleSet(version="2026-11-a", document=document), now=now)
    rule_sets.activate("2026-11-a", now=now)
    scorer = StubbedModel() if path == "model" else NoModel()
    return EligibilityService(customers, rule_sets, InMemoryDecisionLog(), scorer)


@contextlib.contextmanager
def _wired(path: Path_) -> Iterator[None]:
    # Imported once the environment is set: their Powertools metrics read the namespace at import.
    from eligibility import dependencies  # noqa: PLC0415
    from eligibility.writes import Decisions, idempotency_config  # noqa: PLC0415

    with mock_aws():
        service = _service(path)
        # Requests carry no Idempotency-Key, so the persistence layer is never called.
        unused = DynamoDBPersistenceLayer(
            table_name="unused", boto3_client=boto3.client("dynamodb", region_name=REGION)
        )
        dependencies.use(dependencies.Dependencies(service, Decisions(service, unused, idempotency_config(3600))))
        try:
            yield
        finally:
            dependencies.use(None)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    from eligibility.observability import logger  # noqa: PLC0415 - imported once the environment is set

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        streams = [(h, h.setStream(sink)) for h in logger.handlers if hasattr(h, "setStream")]
        try:
            yield
        finally:
            for handler, stream in streams:
                handler.setStream(stream)


def latency(path: Path_, *, calls: int = 1000) -> Latency:
    os.environ.update(BASE_ENVIRONMENT)
    from eligibility.handler import lambda_handler  # noqa: PLC0415 - Powertools reads the environment at import

    context = FakeLambdaContext(function_name="eligibility")
    events = [api_event("post_eligibility", headers={"Idempotency-Key": None}) for _ in range(calls)]
    timings = []
    with _wired(path), _quiet():
        for event in events:
            started = time.perf_counter_ns()
            response = lambda_handler(event, context)
            timings.append((time.perf_counter_ns() - started) / 1e6)
            body = json.loads(response["body"])
            if response["statusCode"] != 200 or body["score_source"] != path:
                raise RuntimeError(f"unexpected answer {response['statusCode']}: {response['body']}")
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    return Latency(path=path, calls=calls, p50_ms=round(percentiles[49], 3), p99_ms=round(percentiles[98], 3))


def main() -> None:
    results = {
        "cold_import_s": {
            "eligibility.handler": round(cold_import("eligibility.handler"), 3),
            "connect_offers.handler": round(cold_import("connect_offers.handler"), 3),
        },
        "decision_latency_ms": {path: latency(path).__dict__ for path in ("model", "fallback")},
    }
    print(json.dumps(results, indent=2))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
