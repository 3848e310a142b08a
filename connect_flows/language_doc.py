"""`docs/connect-flow-language.md`, generated from the action table so the rules in the docs are the rules enforced.

`omni flows reference` writes it; `omni flows reference --check` (and the tests)
fail when the committed page and the table differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from connect_flows.action_rules import (
    ACTION_RULES,
    ALL_FLOW_TYPES,
    FLOW_TYPES,
    MAX_CONDITIONS,
    MODULE,
    OPERATORS,
    ActionRule,
    Category,
    Ending,
)
from connect_flows.validate import (
    CONSOLE_EXPORT_LIMIT,
    IDENTIFIER_FORBIDDEN,
    MAX_ACTIONS,
    MAX_CONTENT_CHARS,
    MAX_IDENTIFIER_LENGTH,
    VERSION,
)

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "connect-flow-language.md"

_ENDING = {Ending.NEVER: "no", Ending.ALWAYS: "yes (`Transitions: {}`)", Ending.MAY: "may (NextAction optional)"}


def _names(values: Iterable[str]) -> str:
    """Names in backticks: sorted, except a tuple, whose order is meaningful."""
    items = list(values) if isinstance(values, tuple) else sorted(values)
    return ", ".join(f"`{item}`" for item in items) if items else "none"


def _parameters(rule: ActionRule) -> str:
    if rule.takes_no_parameters:
        return "none"
    parts = []
    if rule.required:
        parts.append("required: " + _names(rule.required))
    if rule.optional:
        parts.append("optional: " + _names(rule.optional))
    return "; ".join(parts)


def _conditions(rule: ActionRule) -> str:
    spec = rule.conditions
    if spec is None:
        return "none"
    text = "any operator" if spec.operators == OPERATORS else "Equals"
    if spec.operands is not None:
        text += " on " + _names(spec.operands)
    if spec.required:
        text += "; each of " + _names(spec.required) + " required"
    if spec.at_least_one:
        text += "; at least one"
    return text


def _flow_types(rule: ActionRule) -> str:
    if rule.flow_types == ALL_FLOW_TYPES:
        return "all, and modules"
    types = [flow_type for flow_type in FLOW_TYPES if flow_type in rule.flow_types]
    text = ", ".join(f"`{flow_type}`" for flow_type in types)
    if MODULE in rule.flow_types:
        text = f"{text}, modules" if text else "modules only"
    return text


def render_reference() -> str:
    forbidden = " ".join(sorted(IDENTIFIER_FORBIDDEN))
    lines = [
        "# The Amazon Connect flow language, as `omni flows validate` enforces it",
        "",
        "Generated from `connect_flows/action_rules.py` by `omni flows reference`; do not edit by hand",
        "(the tests fail when this page and the table differ). Each action type links to its page of",
        "the flow-language reference. An action type or a parameter that is not in this table is an",
        "error: a misspelled type never reaches an instance.",
        "",
        "## Document",
        "",
        f'- `Version` is `"{VERSION}"`; `StartAction` names an action; `Actions` holds 1 to {MAX_ACTIONS} actions;',
        "  `Metadata` (designer layout) is optional; flow modules also have `Settings` (inputs, outputs, branches).",
        f"- An action has `Identifier` (unique, 1 to {MAX_IDENTIFIER_LENGTH} characters, none of `{forbidden}`,",
        "  not a JavaScript reserved property name), `Type`, `Parameters` and `Transitions`. `Parameters` may",
        "  be left out where the type takes none (the console exports both `{}` and nothing).",
        "- `Transitions`: `NextAction`, `Errors` (`ErrorType` the type raises, no duplicates) and `Conditions`",
        f"  (only where the type has results; operators {_names(OPERATORS)}; operands are strings;",
        f"  at most {MAX_CONDITIONS}). An action that ends the flow has `Transitions: {{}}`; every other needs",
        "  `NextAction`, except where the table says it may leave it out.",
        f"- Content: at most {MAX_CONTENT_CHARS:,} characters as compact JSON once rendered; the console exports only",
        f"  flows under {CONSOLE_EXPORT_LIMIT} blocks. Numbers may be integers or digit strings.",
        "- Source flows (in git) hold no ARN: every resource reference is a `${kind:name}` placeholder. Rendered",
        "  and exported flows hold ARNs and nothing left to fill in (no placeholder, no other tool's template",
        "  token such as `${ACCT_ID}`, `<<REGION>>` or `{{...}}`).",
        "",
        f"{len(ACTION_RULES)} action types. Flow types: "
        + ", ".join(f"`{flow_type}`" for flow_type in FLOW_TYPES)
        + "; *modules* are flow modules.",
    ]
    for category in Category:
        lines += [
            "",
            f"## {category.value.capitalize()}s",
            "",
            "| type | parameters | errors | conditions | ends the flow | flow types | what it does |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, rule in sorted(ACTION_RULES.items()):
            if rule.category is not category:
                continue
            lines.append(
                f"| [`{name}`]({rule.reference}) | {_parameters(rule)} | {_names(rule.errors)} | {_conditions(rule)} "
                f"| {_ENDING[rule.ending]} | {_flow_types(rule)} | {rule.summary} |"
            )
    lines += ["", "## Where the reference and console exports differ", ""]
    for name, rule in sorted(ACTION_RULES.items()):
        for note in rule.notes:
            lines.append(f"- `{name}`: {note}.")
    return "\n".join(lines) + "\n"
