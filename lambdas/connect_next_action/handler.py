"""Amazon Connect next-best-action lookup: a thin adapter from the contact-flow event to `next_action_answer`.

The stage-5 inbound flow passes `customer_id` (stored by the caller lookup) as a
Lambda invocation attribute and gives the function 3 seconds; the decision and
the policy run in-process through the eligibility service, with short AWS client
timeouts so a slow dependency ends in the fallback answer rather than a flow
error. Only the outcome, the action and the customer id are logged.
"""

from __future__ import annotations

import os
import traceback

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import ConnectContactFlowEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from connect_next_action.answer import NextActionAnswer, next_action_answer, unavailable
from eligibility.contact_centre import contact_centre_service
from eligibility.decisions import EligibilityService
from eligibility.observability import count_decision
from omni_domain.constants import ENV_SERVICE_NAME, NEXT_ACTION_SERVICE
from omni_domain.models import is_customer_id
from omni_domain.wiring import Wiring

logger = Logger(service=os.environ.get(ENV_SERVICE_NAME, NEXT_ACTION_SERVICE))
metrics = Metrics()


# The service and the product, built once per execution environment on first use (tests and the sandbox reset it).
wiring: Wiring[tuple[EligibilityService, str]] = Wiring(contact_centre_service)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=ConnectContactFlowEvent)
def lambda_handler(event: ConnectContactFlowEvent, context: LambdaContext) -> dict[str, str]:
    customer_id = (event.parameters.get("customer_id") or "").strip()
    try:
        service, product = wiring.current()
        answer = next_action_answer(service, customer_id, product=product, decision_id=event.contact_data.contact_id)
    except Exception as error:  # noqa: BLE001 - a contact must never fail on the next-action lookup
        logger.error(
            "next action lookup failed",
            extra={"error_type": type(error).__name__, "frames": traceback.format_tb(error.__traceback__)[-4:]},
        )
        answer = unavailable()
    _report(answer, customer_id, event.contact_data.contact_id)
    return answer.attributes


def _report(answer: NextActionAnswer, customer_id: str, contact_id: str) -> None:
    outcome = "".join(part.title() for part in answer.outcome.split("-"))
    metrics.add_metric(name=f"NextAction{outcome}", unit=MetricUnit.Count, value=1)
    if answer.advice is not None:
        count_decision(answer.advice.record, log=logger, sink=metrics)
    logger.info(
        "next action lookup",
        extra={
            "outcome": answer.outcome,
            "action": answer.attributes["next_action"],
            "policy_version": answer.advice.action.policy_version if answer.advice else None,
            "customer_id": customer_id if is_customer_id(customer_id) else None,
            "contact_id": contact_id,
        },
    )
