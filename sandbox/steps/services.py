"""Step 4, microservices: the profile and eligibility APIs through their real handlers, as API Gateway calls them.

A rule set (retention offers over the live state and the propensity score) is
stored and activated through the eligibility API itself; then customers are
read, looked up by e-mail, decided on and advised (next best action), each call
an API Gateway REST proxy event to the function behind that API.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.context import GoldenCustomer, RunContext
from sandbox.events import api_gateway_event

PROFILES = "profiles.handler.lambda_handler"
ELIGIBILITY = "eligibility.handler.lambda_handler"
DECISIONS = 120
PROFILE_READS = 25


def rule_set(product: str) -> dict[str, Any]:
    """Retention offers the sandbox's customers can qualify for, each condition with the reason it gives."""
    return {
        "description": "Sandbox retention offers",
        "offers": [
            {
                "code": "RET-CARE-CALLBACK",
                "product": product,
                "description": "A priority call-back to settle an open complaint",
                "priority": 5,
                "conditions": [
                    {"attribute": "complaints", "op": "gte", "value": 1, "reason": "no complaint to settle"}
                ],
            },
            {
                "code": "RET-LOYAL-15",
                "product": product,
                "description": "15% off for 12 months",
                "priority": 10,
                "conditions": [
                    {"attribute": "purchases", "op": "gte", "value": 1, "reason": "no purchase yet"},
                    {"attribute": "complaints", "op": "lte", "value": 1, "reason": "more than one complaint"},
                    {
                        "attribute": "propensity",
                        "op": "gte",
                        "value": 0.25,
                        "if_missing": "pass",
                        "reason": "unlikely to take the offer",
                    },
                ],
            },
            {
                "code": "RET-CART-10",
                "product": product,
                "description": "10% off the abandoned basket",
                "priority": 20,
                "conditions": [
                    {"attribute": "cart_status", "op": "eq", "value": "abandoned", "reason": "no abandoned cart"}
                ],
            },
        ],
    }


@dataclass(frozen=True)
class ServicesResult:
    rule_set_version: str
    calls: Counter[str]  # "GET /customers/{id} 200" -> count
    profile_reads: int
    decisions: int
    eligible: int
    score_sources: Counter[str]
    offers: Counter[str]
    reasons: Counter[str]
    sample_decisions: list[dict[str, Any]]
    sample_actions: list[dict[str, Any]]
    mean_latency_ms: dict[str, float]
    errors: list[str] = field(default_factory=list)


class _Api:
    def __init__(self, context: RunContext, handler: str) -> None:
        self.context = context
        self.handler = handler
        self.calls: Counter[str] = Counter()
        self.latency: dict[str, list[float]] = {}

    def __call__(
        self,
        method: str,
        path: str,
        resource: str,
        *,
        path_parameters: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        platform = self.context.platform
        event = api_gateway_event(
            method,
            path,
            resource=resource,
            path_parameters=path_parameters,
            query=query,
            body=body,
            headers=headers,
            account=platform.account,
            region=platform.region,
        )
        started = time.perf_counter()
        response = platform.invoke(self.handler, event)
        route = f"{method} {resource}"
        self.latency.setdefault(route, []).append((time.perf_counter() - started) * 1000)
        self.calls[f"{route} {response['statusCode']}"] += 1
        text = response.get("body") or "null"
        return int(response["statusCode"]), json.loads(text) if text.startswith(("{", "[")) else text


def run(context: RunContext, population: list[GoldenCustomer], product: str) -> ServicesResult:
    say = context.progress.step("services")
    rng = context.rng
    profiles, eligibility = _Api(context, PROFILES), _Api(context, ELIGIBILITY)
    errors: list[str] = []

    version = f"{context.now:%Y-%m}-sandbox"
    status, _ = eligibility(
        "PUT",
        f"/rule-sets/{version}",
        "/rule-sets/{version}",
        path_parameters={"version": version},
        body=rule_set(product),
    )
    activated, _ = eligibility(
        "PUT", f"/rule-sets/{version}/activate", "/rule-sets/{version}/activate", path_parameters={"version": version}
    )
    say(f"rule set {version} stored ({status}) and activated ({activated}) through the eligibility API")
    if activated >= 300:
        errors.append(f"activating rule set {version} answered {activated}")

    sample = rng.sample(population, k=min(len(population), max(DECISIONS, PROFILE_READS)))
    profile_reads = 0  # profiles the API returned
    for customer in sample[:PROFILE_READS]:
        status, body = profiles(
            "GET", f"/customers/{customer.golden_id}", "/customers/{id}", path_parameters={"id": customer.golden_id}
        )
        profile_reads += status == 200
        if status != 200:
            errors.append(f"GET /customers/{customer.golden_id} answered {status}")
    with_email = [customer for customer in sample[:PROFILE_READS] if customer.email][:10]
    matching = 0
    for customer in with_email:
        status, body = profiles("GET", "/customers", "/customers", query={"email": str(customer.email)})
        matching += status == 200 and isinstance(body, dict) and body.get("customer_id") == customer.golden_id
    say(
        f"{profile_reads} profiles read, {len(with_email)} looked up by e-mail ({matching} resolved to the same "
        "golden id; an e-mail two golden records share stays unresolved)"
    )

    decisions: list[dict[str, Any]] = []
    for customer in sample[:DECISIONS]:
        status, body = eligibility(
            "POST",
            f"/customers/{customer.golden_id}/eligibility",
            "/customers/{customer_id}/eligibility",
            path_parameters={"customer_id": customer.golden_id},
            body={"product": product},
            headers={"Idempotency-Key": f"sandbox-{customer.golden_id}"},
        )
        if status == 200 and isinstance(body, dict):
            decisions.append(body)
        else:
            errors.append(f"POST eligibility for {customer.golden_id} answered {status}: {body}")
    eligible = [decision for decision in decisions if decision.get("eligible")]
    say(f"{len(decisions)} eligibility decisions for {product}: {len(eligible)} eligible")

    actions = []
    for customer in sample[:3]:
        status, body = eligibility(
            "GET",
            f"/customers/{customer.golden_id}/next-best-action",
            "/customers/{customer_id}/next-best-action",
            path_parameters={"customer_id": customer.golden_id},
            query={"product": product},
        )
        if status == 200 and isinstance(body, dict):
            actions.append(body)
    return ServicesResult(
        rule_set_version=version,
        calls=profiles.calls + eligibility.calls,
        profile_reads=profile_reads,
        decisions=len(decisions),
        eligible=len(eligible),
        score_sources=Counter(str(decision.get("score_source")) for decision in decisions),
        offers=Counter(offer for decision in decisions for offer in decision.get("offers", [])),
        reasons=Counter(reason for decision in decisions for reason in decision.get("reasons", [])),
        sample_decisions=_samples(decisions),
        sample_actions=actions,
        mean_latency_ms={
            route: round(sum(values) / len(values), 1)
            for api in (profiles, eligibility)
            for route, values in api.latency.items()
        },
        errors=errors,
    )


def _samples(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = (
        "customer_id",
        "eligible",
        "offers",
        "reasons",
        "score",
        "score_source",
        "contributions",
        "rule_set_version",
    )
    chosen = [d for d in decisions if d.get("eligible")][:2] + [d for d in decisions if not d.get("eligible")][:2]
    return [{key: decision.get(key) for key in keep} for decision in chosen]
