"""The identity map item: one identifier resolved to one golden customer id.

Both writers use `identity_item` (the MDM loader for the links a matching run
publishes, the profile service for the e-mail and phone a channel captures) and
every reader uses `link_from_item`, so the item shape is defined here only.

Item (table key `identifier`, GSI `by-customer` on `customer_id`):

    identifier       "email#ada@example.com" | "phone#+447700900123" | "source#crm:123" | "device#..."
    identifier_type  "email" | "phone" | "source" | "device" (the key's prefix, kept for filters and analytics)
    customer_id      the golden customer id
    origin           "mdm" (published by a matching run) | "profile-service" (captured by a channel)
                     | "event-processor" (provisional: an identifier first seen on the event stream; a later
                     MDM run re-points it to the golden id)
    updated_at       ISO-8601 UTC
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from omni_domain.constants import IDENTITY_CUSTOMER_ATTRIBUTE, IDENTITY_PARTITION_KEY
from omni_domain.identifiers import IdentifierKind, identifier_kind

LinkOrigin = Literal["mdm", "profile-service", "event-processor"]
LINK_ORIGINS: tuple[LinkOrigin, ...] = get_args(LinkOrigin)


@dataclass(frozen=True, slots=True)
class IdentityLink:
    identifier: str
    customer_id: str
    origin: LinkOrigin
    updated_at: str

    @property
    def kind(self) -> IdentifierKind:
        return identifier_kind(self.identifier)


def identity_item(link: IdentityLink) -> dict[str, str]:
    """The DynamoDB item (plain strings: usable with the boto3 resource or a TypeSerializer)."""
    return {
        IDENTITY_PARTITION_KEY: link.identifier,
        "identifier_type": link.kind,
        IDENTITY_CUSTOMER_ATTRIBUTE: link.customer_id,
        "origin": link.origin,
        "updated_at": link.updated_at,
    }


def link_from_item(item: Mapping[str, object]) -> IdentityLink:
    stored = str(item.get("origin", "mdm"))
    # An item without a known origin was published before origins existed: by a matching run.
    origin: LinkOrigin = next((known for known in LINK_ORIGINS if known == stored), "mdm")
    return IdentityLink(
        identifier=str(item[IDENTITY_PARTITION_KEY]),
        customer_id=str(item[IDENTITY_CUSTOMER_ATTRIBUTE]),
        origin=origin,
        updated_at=str(item.get("updated_at", "")),
    )


def new_link(identifier: str, customer_id: str, *, origin: LinkOrigin, at: datetime) -> IdentityLink:
    """A link stamped now; `identifier` must already be a key (`identifier_key`), which is checked."""
    identifier_kind(identifier)
    return IdentityLink(identifier=identifier, customer_id=customer_id, origin=origin, updated_at=at.isoformat())
