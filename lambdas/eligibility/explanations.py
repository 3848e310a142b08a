"""The model's contributions in plain words: "likely to take the offer: 3 purchases, tenure 4 years".

Pure: the same contributions always give the same sentences. Each catalogue
attribute the model is sent has a phrase for its value; any other feature (a
model trained on other columns) reads "<feature> = <value>", so an unknown
input is still shown, never dropped. Contributions that raised the score and
those that lowered it are said apart, largest first (the order the endpoint
sends them in).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eligibility.attributes import Fact
from eligibility.scoring import Contribution

RAISED = "likely to take the offer"
LOWERED = "less likely to take the offer"
# Derived from the date of birth: said in reasons (as any fact the decision used), never in a whisper.
PERSONAL = frozenset({"age_years"})
DAYS_PER_YEAR = 365


def _count(noun: str, plural: str | None = None) -> Callable[[float], str]:
    def phrase(value: float) -> str:
        number = round(value)
        return f"{number} {noun if number == 1 else (plural or noun + 's')}"

    return phrase


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".removesuffix(".00")


def _tenure(days: float) -> str:
    if days >= DAYS_PER_YEAR:
        years = int(days // DAYS_PER_YEAR)
        return f"tenure {years} year{'s' if years != 1 else ''}"
    return f"tenure {_count('day')(days)}"


def _words(value: str) -> str:
    return value.replace("_", " ")


NUMBERS: dict[str, Callable[[float], str]] = {
    "spend_30d": lambda v: f"spent {_money(v)} in the last 30 days",
    "spend_365d": lambda v: f"spent {_money(v)} in the last year",
    "tenure_days": _tenure,
    "age_years": lambda v: f"aged {round(v)}",
    "complaints": _count("complaint"),
    "purchases": _count("purchase"),
    "returns": _count("return"),
    "contacts": _count("contact"),
    "loyalty_points": _count("loyalty point"),
    "friction_points": _count("open friction point"),
    "cart_value": lambda v: f"cart worth {_money(v)}",
}
WORDS: dict[str, Callable[[str], str]] = {
    "preferred_channel": lambda v: f"prefers {_words(v)}",
    "journey_stage": lambda v: f"journey stage {_words(v)}",
    "cart_status": lambda v: f"cart {_words(v)}",
    "credit_band": lambda v: f"credit band {v}",
    "product": lambda v: f"product {v}",
}
UNKNOWN = {
    "age_years": "age unknown",
    "cart_status": "no cart",
    "cart_value": "no cart",
    "credit_band": "credit band unknown",
}


def phrase(feature: str, value: Fact) -> str:
    """One input in plain words; `<feature> = <value>` for a feature this module does not know."""
    if feature == "marketing_consent" and isinstance(value, bool):
        return "marketing consent given" if value else "no marketing consent"
    if value is None:
        return UNKNOWN.get(feature, f"{_words(feature)} unknown")
    if feature in NUMBERS and isinstance(value, int | float) and not isinstance(value, bool):
        return NUMBERS[feature](float(value))
    if feature in WORDS and isinstance(value, str):
        return WORDS[feature](value)
    return f"{feature} = {_show(value)}"


def explain(contributions: Sequence[Contribution]) -> list[str]:
    """At most two reasons: what raised the score, then what lowered it (an input that moved nothing is left out)."""
    raised = [phrase(c.feature, c.value) for c in contributions if c.contribution > 0]
    lowered = [phrase(c.feature, c.value) for c in contributions if c.contribution < 0]
    reasons = []
    if raised:
        reasons.append(f"{RAISED}: {', '.join(raised)}")
    if lowered:
        reasons.append(f"{LOWERED}: {', '.join(lowered)}")
    return reasons


def top_reason(contributions: Sequence[Contribution]) -> str | None:
    """The largest contribution that raised the score, in plain words, leaving out personal data (for a whisper)."""
    for contribution in contributions:
        if contribution.contribution > 0 and contribution.feature not in PERSONAL:
            return phrase(contribution.feature, contribution.value)
    return None


def _show(value: Fact) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    return str(value)
