"""Names the eligibility stack (CDK) and the eligibility and offer-check functions share, defined once.

Plain strings only: the stacks import this module without boto3 or Powertools.
The customer table, idempotency table and Powertools variables keep the names
of `omni_domain.constants`.
"""

from __future__ import annotations

ELIGIBILITY_SERVICE = "eligibility"
ELIGIBILITY_HANDLER = "eligibility.handler.lambda_handler"
OFFER_CHECK_SERVICE = "connect-offers"
OFFER_CHECK_HANDLER = "connect_offers.handler.lambda_handler"

# Environment variables (besides omni_domain's CUSTOMER_TABLE_NAME and IDEMPOTENCY_TABLE_NAME).
ENV_RULES_TABLE = "RULES_TABLE_NAME"
ENV_DECISIONS_TABLE = "DECISIONS_TABLE_NAME"
ENV_DECISION_TTL_DAYS = "DECISION_TTL_DAYS"
# Empty or unset: no model is deployed yet, every decision is rules-only (`score_source: fallback`).
ENV_PROPENSITY_ENDPOINT = "PROPENSITY_ENDPOINT_NAME"
ENV_PROPENSITY_TIMEOUT_MS = "PROPENSITY_TIMEOUT_MS"  # config `propensity.invoke_timeout_ms`
# The offer check asks about this product (the contact flow passes only the customer id).
ENV_OFFER_PRODUCT = "OFFER_CHECK_PRODUCT"

# Rule-set table: one item per immutable version, plus the pointer item naming the active one.
RULES_TABLE_SUFFIX = "eligibility-rules"
RULES_PARTITION_KEY = "rule_set"  # S: the version, or ACTIVE_POINTER
ACTIVE_POINTER = "ACTIVE"  # upper case: versions are lower case, so no version can collide with it

# Decision audit table: every decision, kept for DECISION_TTL_DAYS (DynamoDB TTL on DECISION_EXPIRY_ATTRIBUTE).
DECISIONS_TABLE_SUFFIX = "eligibility-decisions"
DECISION_PARTITION_KEY = "customer_id"  # S
DECISION_SORT_KEY = "decision_id"  # S: "<decided_at ISO-8601>#<request id>", newest last
DECISION_EXPIRY_ATTRIBUTE = "expires_at"  # N: epoch seconds
