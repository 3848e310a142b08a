"""JSON merge patch bodies through Powertools' request validation."""

from __future__ import annotations

from typing import Any

MERGE_PATCH_JSON = "application/merge-patch+json"
_JSON = "application/json"
_CONTENT_TYPE = "content-type"


def merge_patch_as_json(event: dict[str, Any]) -> dict[str, Any]:
    """The event with `application/merge-patch+json` read as `application/json`.

    RFC 7396's media type is plain JSON, but Powertools only parses bodies whose
    Content-Type starts with application/json (anything else is answered 415).
    """
    headers: dict[str, str] = event.get("headers") or {}
    names = [name for name, value in headers.items() if name.lower() == _CONTENT_TYPE and _is_merge_patch(value)]
    if not names:
        return event
    multi: dict[str, list[str]] = event.get("multiValueHeaders") or {}
    return {
        **event,
        "headers": {name: _JSON if name in names else value for name, value in headers.items()},
        "multiValueHeaders": {
            name: [_JSON if _is_merge_patch(value) else value for value in values]
            if name.lower() == _CONTENT_TYPE
            else values
            for name, values in multi.items()
        },
    }


def _is_merge_patch(value: str | None) -> bool:
    return (value or "").strip().lower().startswith(MERGE_PATCH_JSON)
