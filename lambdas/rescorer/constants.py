"""Names the rescorer's stack (CDK) and function share, besides those of `omni_domain.constants`
(customer and rescore tables, debounce window) and `eligibility.constants` (endpoint, timeout).

Plain strings only: the stacks import this module without boto3 or Powertools.
"""

from __future__ import annotations

# Comma-separated products to score, e.g. "retention-offer": each becomes a key of `live_state.propensity`.
ENV_RESCORE_PRODUCTS = "RESCORE_PRODUCTS"
# The delay queue's URL: a debounced change's trailing rescore is sent there, due when the window ends.
ENV_RESCORE_DELAY_QUEUE_URL = "RESCORE_DELAY_QUEUE_URL"
