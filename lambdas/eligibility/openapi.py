"""The OpenAPI document of the eligibility API, generated from the resolver's routes and models.

`python -m eligibility.openapi docs/api/eligibility-openapi.json` (with `lambdas` on the
path) rewrites the committed copy; a test fails when the copy is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from eligibility.handler import app
from rest_api import openapi

TITLE = "Eligibility API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Whether a customer is eligible for a product or an offer, and why: versioned rule sets (data, validated "
    "when stored, activated atomically) over the customer's profile and live state, with a propensity score from "
    "the SageMaker model, or the rules alone when the model is unavailable (`score_source: fallback`). Every "
    "route is authorised with IAM (SigV4). POST honours Idempotency-Key. Errors are application/problem+json."
)


def openapi_document() -> str:
    return openapi.openapi_document(app, title=TITLE, version=VERSION, description=DESCRIPTION)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path("docs/api/eligibility-openapi.json")
    target.write_text(openapi_document(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
