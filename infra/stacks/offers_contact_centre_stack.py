"""Stage 4 offers in the contact centre: eligible callers are routed to the retention offers queue.

Adds the offer-check function (the eligibility domain, called in-process, within
the flow's 3-second limit), associates it with the Connect instance, and deploys
the manifest's stage-4 flow. The stage-3 personalised flow stays as it was.
"""

from __future__ import annotations

from eligibility import constants as eligibility
from infra.stacks.contact_centre_decision_stack import ContactCentreDecisionStack


class OffersContactCentreStack(ContactCentreDecisionStack):
    FUNCTION_ID = "OfferCheck"
    HANDLER = eligibility.OFFER_CHECK_HANDLER
    SERVICE = eligibility.OFFER_CHECK_SERVICE
    DESCRIPTION = "Contact-flow offer check: is the caller eligible for the retention offer, and why"
    PLACEHOLDER = "offer_check"
