"""Stage 5 next best action in the contact centre: the agent whisper says what to do next with the caller.

Adds the next-action function (the eligibility domain and the next-best-action
policy, in-process, within the flow's 3-second limit), associates it with the
Connect instance, and deploys the manifest's stage-5 flows: an agent whisper that
speaks the action, then the inbound flow that calls the function once (routing
and the whisper share that one decision) and sets that whisper. The stage-3 and
stage-4 flows stay as they were.
"""

from __future__ import annotations

from infra.stacks.contact_centre_decision_stack import ContactCentreDecisionStack
from omni_domain import constants


class NextActionContactCentreStack(ContactCentreDecisionStack):
    FUNCTION_ID = "NextAction"
    HANDLER = constants.NEXT_ACTION_HANDLER
    SERVICE = constants.NEXT_ACTION_SERVICE
    DESCRIPTION = "Contact-flow next best action: what the agent should do next with the caller, and why"
    PLACEHOLDER = "next_action"
