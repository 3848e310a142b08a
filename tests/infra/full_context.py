"""cdk.json's context with every environment written out in full, for tests that change one setting in place.

cdk.json gives each environment only what differs from the defaults in `infra/config.py`; a test
that edits a section (drops a queue, breaks a watch) needs the section there to edit.
"""

from __future__ import annotations

from typing import Any

from infra.config import ENVIRONMENTS_KEY, config_for, read_cdk_json_context


def full_context() -> dict[str, Any]:
    """A fresh copy: each environment as its resolved settings (defaults filled in), ready to change."""
    context = read_cdk_json_context()
    environments = {
        name: config_for(name, context=context).environment.model_dump(mode="json")
        for name in context[ENVIRONMENTS_KEY]
    }
    return {**context, ENVIRONMENTS_KEY: environments}
