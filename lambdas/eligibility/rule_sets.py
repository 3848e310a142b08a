"""Rule sets as data: the document a rule author stores, and its checks against the attribute catalogue.

A rule set is immutable once stored under its version, so a decision's
`rule_set_version` always names the rules that made it. Structure (operators,
sizes, codes) is checked by the models; meaning (known attributes, values of
the attribute's type, allowed strings) by `check_rule_set`, which names the
offending field as `offers.<i>.conditions.<j>.<member>`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, StringConstraints

from eligibility.attributes import CATALOGUE, Attribute
from omni_domain.errors import ValidationFailedError

VERSION_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
OFFER_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"
PRODUCT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
Version = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
OfferCode = Annotated[str, StringConstraints(pattern=OFFER_CODE_PATTERN)]
Product = Annotated[str, StringConstraints(pattern=PRODUCT_PATTERN)]
Operator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in"]
ORDERING: frozenset[str] = frozenset({"gt", "gte", "lt", "lte"})
MEMBERSHIP: frozenset[str] = frozenset({"in", "not_in"})
# Strict: true is not 1, "5" is not 5; numbers are finite.
Scalar = (
    StrictBool
    | StrictInt
    | Annotated[StrictFloat, Field(allow_inf_nan=False)]
    | Annotated[StrictStr, Field(max_length=100)]
)
Value = Scalar | Annotated[list[Scalar], Field(min_length=1, max_length=50)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    attribute: str = Field(max_length=64, description="a catalogue attribute, e.g. spend_365d or propensity")
    op: Operator
    value: Value
    if_missing: Literal["pass", "fail"] = Field(
        default="fail", description="the outcome when the customer has no value (e.g. no score: the model is down)"
    )
    reason: Text | None = Field(default=None, description="said to the caller when the condition is not met")


class Offer(_Model):
    code: OfferCode
    product: Product
    description: Text | None = None
    priority: int = Field(default=100, ge=0, le=10_000, description="lower first in `offers`")
    conditions: list[Condition] = Field(default=[], max_length=50, description="all must hold")


class RuleSetDocument(_Model):
    description: Text | None = None
    offers: list[Offer] = Field(min_length=1, max_length=200)


class RuleSet(_Model):
    version: Version
    document: RuleSetDocument


def check_rule_set(document: RuleSetDocument) -> None:
    """Raise ValidationFailedError naming the first condition that the engine could not evaluate meaningfully."""
    seen: set[str] = set()
    for i, offer in enumerate(document.offers):
        if offer.code in seen:
            raise ValidationFailedError(f"offer code {offer.code} appears twice", field=f"offers.{i}.code")
        seen.add(offer.code)
        for j, condition in enumerate(offer.conditions):
            _check_condition(condition, f"offers.{i}.conditions.{j}")


def _check_condition(condition: Condition, where: str) -> None:
    attribute = CATALOGUE.get(condition.attribute)
    if attribute is None:
        raise ValidationFailedError(f"unknown attribute {condition.attribute!r}", field=f"{where}.attribute")
    if condition.op in ORDERING and attribute.type != "number":
        raise ValidationFailedError(
            f"{condition.op} needs a number attribute; {attribute.name} is a {attribute.type}", field=f"{where}.op"
        )
    if condition.op in MEMBERSHIP and attribute.type == "boolean":
        raise ValidationFailedError(f"{condition.op} does not apply to a boolean", field=f"{where}.op")
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    if (condition.op in MEMBERSHIP) != isinstance(condition.value, list):
        expected = "a list" if condition.op in MEMBERSHIP else "a single value"
        raise ValidationFailedError(f"{condition.op} compares with {expected}", field=f"{where}.value")
    for value in values:
        problem = _type_problem(attribute, value)
        if problem:
            raise ValidationFailedError(problem, field=f"{where}.value")


def _type_problem(attribute: Attribute, value: Scalar) -> str | None:
    kind = "boolean" if isinstance(value, bool) else "number" if isinstance(value, float | int) else "string"
    if kind != attribute.type:
        return f"{attribute.name} is a {attribute.type}, the value is a {kind}"
    if attribute.values and value not in attribute.values:
        return f"{value!r} is not one of {', '.join(attribute.values)}"
    return None
