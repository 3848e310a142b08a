"""Request bodies are JSON: a form or multipart body is refused as unsupported (415), like any other type.

Powertools' request validation reads `application/x-www-form-urlencoded` and
`multipart/form-data` bodies into the route's model as well as JSON (and raises
a bare ValueError, a 500, on a multipart type without a boundary). The
platform's APIs document JSON bodies only, so such an event reaches the resolver
with its Content-Type marked as one Powertools does not parse: it raises
`RequestUnsupportedContentType`, answered as the 415 problem naming Content-Type.
"""

from __future__ import annotations

from typing import Any

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_REFUSED = "unsupported/"
_CONTENT_TYPE = "content-type"


def json_bodies_only(event: dict[str, Any]) -> dict[str, Any]:
    """The event, with a form or multipart Content-Type renamed so that the resolver answers 415."""
    headers: dict[str, str] = event.get("headers") or {}
    multi: dict[str, list[str]] = event.get("multiValueHeaders") or {}
    sent = [value for name, value in headers.items() if name.lower() == _CONTENT_TYPE]
    sent += [value for name, values in multi.items() if name.lower() == _CONTENT_TYPE for value in values]
    if not any(map(_is_form, sent)):
        return event
    return {
        **event,
        "headers": {
            name: _refused(value) if name.lower() == _CONTENT_TYPE else value for name, value in headers.items()
        },
        "multiValueHeaders": {
            name: [_refused(value) for value in values] if name.lower() == _CONTENT_TYPE else values
            for name, values in multi.items()
        },
    }


def _is_form(value: str | None) -> bool:
    return (value or "").strip().lower().startswith(FORM_MEDIA_TYPES)


def _refused(value: str) -> str:
    return _REFUSED + value.strip() if _is_form(value) else value
