"""The OpenAPI document of the profile API, generated from the resolver's routes and models.

`python -m profiles.openapi docs/api/profiles-openapi.json` (with `lambdas` on the
path) rewrites the committed copy; a test fails when the copy is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from profiles.handler import app
from rest_api import openapi

TITLE = "Customer profile API"
VERSION = "1.0.0"
DESCRIPTION = (
    "One customer profile and live state for every channel. Every route is authorised with IAM (SigV4). "
    "Writes are conditional: send the ETag of a GET as If-Match (428 without it on an existing customer, "
    "412 when stale). PUT and PATCH honour Idempotency-Key. Errors are application/problem+json."
)


def openapi_document() -> str:
    return openapi.openapi_document(app, title=TITLE, version=VERSION, description=DESCRIPTION)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path("docs/api/profiles-openapi.json")
    target.write_text(openapi_document(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
