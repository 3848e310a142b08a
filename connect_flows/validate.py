"""Check a flow document against the flow-language rules before the service sees it.

Problems carry the service's own path style (`Actions[3].Transitions.NextAction`),
so a message from `omni flows validate` and one from `InvalidContactFlowException`
point at the same place. Source mode (the default) is for files in git: references
must be placeholders and no ARN may appear anywhere. Rendered mode accepts ARNs and
refuses placeholders and any other unfilled template token, for flows rendered
for, or exported from, an instance. The rules come from `action_rules.ACTION_RULES`:
an action type or a parameter the table does not know is an error.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from connect_flows.action_rules import (
    ACTION_RULES,
    DTMF_CHARACTERS,
    MAX_CONDITIONS,
    MODULE,
    OPERATORS,
    ActionRule,
    Conditions,
    Ending,
    FlowKind,
)
from connect_flows.documents import FlowFileError, looks_like_module, read_flow_file
from connect_flows.manifest import Manifest
from connect_flows.placeholders import (
    ARN_PATTERN,
    KINDS,
    format_path,
    is_jsonpath,
    mentions_placeholder,
    parse_placeholder,
    placeholders_in,
    reference_field,
    walk_strings,
)
from connect_flows.render import UnresolvedPlaceholderError, render

VERSION = "2019-10-30"
TOP_LEVEL_KEYS = frozenset(("Version", "StartAction", "Actions", "Metadata"))
MODULE_TOP_LEVEL_KEYS = TOP_LEVEL_KEYS | {"Settings"}
MAX_ACTIONS = 250
CONSOLE_EXPORT_LIMIT = 100
MAX_CONTENT_CHARS = 256_000
MAX_IDENTIFIER_LENGTH = 50
IDENTIFIER_FORBIDDEN = frozenset("%:(\\/)=$,;[]{}")
RESERVED_IDENTIFIERS = frozenset(
    (
        "__proto__",
        "constructor",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "toString",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "valueOf",
    )
)
MISSING_PROPERTY = "Action is missing required property"
# Tokens of other tools' templates that a deployment pipeline fills in before import:
# ${ACCT_ID}, ${F:name:F}, <<REGION>>, {{contactFlows.Main.arn}}. Our own placeholders
# (${queue:name}) are told apart by parse_placeholder.
TEMPLATE_TOKEN = re.compile(r"\$\{[^}]*\}|<<[^<>]+>>|\{\{[^{}]+\}\}")

# The longest ARNs a placeholder of each kind can become: a source flow's size is
# checked as if rendered for the most verbose target, so it cannot pass here and
# fail the 256,000-character limit at deploy time.
_UUID = "00000000-0000-0000-0000-000000000000"
_INSTANCE = f"arn:aws-us-gov:connect:ap-southeast-2:123456789012:instance/{_UUID}"
WORST_CASE_VALUES: dict[str, str] = {
    "lambda": "arn:aws-us-gov:lambda:ap-southeast-2:123456789012:function:" + "f" * 64 + ":" + "a" * 128,
    "queue": f"{_INSTANCE}/queue/{_UUID}",
    "hours": f"{_INSTANCE}/operating-hours/{_UUID}",
    "prompt": f"{_INSTANCE}/prompt/{_UUID}",
    "flow": f"{_INSTANCE}/contact-flow/{_UUID}",
    "module": f"{_INSTANCE}/flow-module/{_UUID}",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    path: str
    message: str

    def format(self, source: str) -> str:
        where = f"{source}: {self.path}" if self.path else source
        label = "warning: " if self.severity is Severity.WARNING else ""
        return f"{where}: {label}{self.message}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity is Severity.ERROR]


class _Checker:
    def __init__(self, doc: Any, *, rendered: bool, flow_type: FlowKind | None) -> None:
        self.doc = doc
        self.rendered = rendered
        self.flow_type = flow_type
        self.problems: list[Problem] = []
        self.identifiers: dict[str, int] = {}

    def error(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(Severity.ERROR, format_path(path), message))

    def warn(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(Severity.WARNING, format_path(path), message))

    def run(self) -> list[Problem]:
        if not self._document():
            return self.problems
        for index, action in enumerate(self.doc["Actions"]):
            self._action(index, action)
        self._start_action()
        for index, action in self._well_formed():
            rule = ACTION_RULES.get(action["Type"])
            self._transitions(index, action, rule)
            if rule is not None:
                self._parameters(index, action, rule)
            self._references(index, action)
        self._no_literal_arn()
        self._size()
        self._layout()
        self._reachability()
        return self.problems

    def _well_formed(self) -> Iterable[tuple[int, dict[str, Any]]]:
        for index, action in enumerate(self.doc["Actions"]):
            if (
                isinstance(action, dict)
                and isinstance(action.get("Type"), str)
                and isinstance(action.get("Parameters", {}), dict)
                and isinstance(action.get("Transitions"), dict)
            ):
                yield index, action

    def _document(self) -> bool:
        if not isinstance(self.doc, dict):
            self.error((), "a flow must be a JSON object")
            return False
        module = self.flow_type == MODULE
        allowed = MODULE_TOP_LEVEL_KEYS if module else TOP_LEVEL_KEYS
        for key in self.doc:
            if key not in allowed:
                expected = ", ".join(sorted(allowed, key=list(MODULE_TOP_LEVEL_KEYS).index))
                hint = " (only flow modules have Settings)" if key == "Settings" else ""
                self.warn((key,), f"unknown top-level key (expected {expected}){hint}")
        if module and "Settings" in self.doc:
            self._settings(self.doc["Settings"])
        if self.doc.get("Version") != VERSION:
            self.error(("Version",), f'must be "{VERSION}"')
        actions = self.doc.get("Actions")
        if not isinstance(actions, list) or not actions:
            self.error(("Actions",), "must be a non-empty list of actions")
            return False
        if len(actions) > MAX_ACTIONS:
            self.error(("Actions",), f"{len(actions)} actions: at most {MAX_ACTIONS} are allowed")
        elif len(actions) > CONSOLE_EXPORT_LIMIT:
            self.warn(
                ("Actions",), f"{len(actions)} blocks: the console exports only flows under {CONSOLE_EXPORT_LIMIT}"
            )
        if "Metadata" in self.doc and not isinstance(self.doc["Metadata"], dict):
            self.error(("Metadata",), "must be an object")
        return True

    def _settings(self, settings: Any) -> None:
        if not isinstance(settings, dict):
            self.error(("Settings",), "must be an object (the module's InputParameters, OutputParameters, Transitions)")
            return
        for key in ("InputParameters", "OutputParameters", "Transitions"):
            if key in settings and not isinstance(settings[key], list):
                self.error(("Settings", key), "must be a list")

    def _action(self, index: int, action: Any) -> None:
        path: tuple[str | int, ...] = ("Actions", index)
        if not isinstance(action, dict):
            self.error(path, "an action must be an object")
            return
        action_type = action.get("Type")
        rule = ACTION_RULES.get(action_type) if isinstance(action_type, str) else None
        for key, kind in (("Identifier", str), ("Type", str), ("Parameters", dict), ("Transitions", dict)):
            if key not in action:
                # An action whose type takes no parameters may be exported without them.
                if key != "Parameters" or rule is None or not rule.takes_no_parameters:
                    self.error((*path, key), MISSING_PROPERTY)
            elif not isinstance(action[key], kind):
                self.error((*path, key), f"must be {'a string' if kind is str else 'an object'}")
        identifier = action.get("Identifier")
        if isinstance(identifier, str):
            self._identifier(index, identifier)
        if not isinstance(action_type, str):
            return
        if rule is None:
            self.error((*path, "Type"), _unknown_type(action_type))
        elif self.flow_type is not None and self.flow_type not in rule.flow_types:
            self.error((*path, "Type"), f"{action_type} is not available in {_flow_label(self.flow_type)}")

    def _identifier(self, index: int, identifier: str) -> None:
        path = ("Actions", index, "Identifier")
        if identifier in self.identifiers:
            self.error(path, f"duplicate Identifier {identifier!r} (also Actions[{self.identifiers[identifier]}])")
        else:
            self.identifiers[identifier] = index
        if not identifier or len(identifier) > MAX_IDENTIFIER_LENGTH:
            self.error(path, f"must be 1 to {MAX_IDENTIFIER_LENGTH} characters")
        forbidden = sorted(set(identifier) & IDENTIFIER_FORBIDDEN)
        if forbidden:
            self.error(path, f"must not contain {' '.join(forbidden)}")
        if identifier in RESERVED_IDENTIFIERS:
            self.error(path, f"{identifier!r} is a reserved JavaScript property name")

    def _start_action(self) -> None:
        start = self.doc.get("StartAction")
        if not isinstance(start, str):
            self.error(("StartAction",), "must name the first action")
        elif start not in self.identifiers:
            self.error(("StartAction",), f"{start!r} names no action")

    def _next(self, path: tuple[str | int, ...], target: Any) -> None:
        if not isinstance(target, str):
            self.error(path, "must be an action Identifier")
        elif target not in self.identifiers:
            self.error(path, f"{target!r} names no action")

    def _transitions(self, index: int, action: dict[str, Any], rule: ActionRule | None) -> None:
        path: tuple[str | int, ...] = ("Actions", index, "Transitions")
        transitions = action["Transitions"]
        action_type = action["Type"]
        ending = rule.ending if rule is not None else Ending.NEVER
        if ending is Ending.ALWAYS:
            if transitions:
                self.error(path, f"{action_type} ends the flow: Transitions must be {{}}")
            return
        if "NextAction" in transitions:
            self._next((*path, "NextAction"), transitions["NextAction"])
        elif ending is Ending.NEVER:
            self.error((*path, "NextAction"), f"{MISSING_PROPERTY}. Path: {format_path((*path, 'NextAction'))}")
        for key in transitions:
            if key not in ("NextAction", "Errors", "Conditions"):
                self.warn((*path, key), "unknown transition key (expected NextAction, Errors, Conditions)")
        self._errors(path, transitions.get("Errors", []), action, rule)
        self._conditions(path, transitions.get("Conditions", []), action, rule)

    @staticmethod
    def _stores_input(action: dict[str, Any]) -> bool:
        return action["Type"] == "GetParticipantInput" and _params(action).get("StoreInput") == "True"

    def _allowed_errors(self, action: dict[str, Any], rule: ActionRule) -> frozenset[str]:
        if self._stores_input(action):
            return rule.errors - {"NoMatchingCondition"}
        return rule.errors

    def _errors(
        self, path: tuple[str | int, ...], entries: Any, action: dict[str, Any], rule: ActionRule | None
    ) -> None:
        if not isinstance(entries, list):
            self.error((*path, "Errors"), "must be a list")
            return
        seen: set[str] = set()
        for number, entry in enumerate(entries):
            entry_path = (*path, "Errors", number)
            if not isinstance(entry, dict):
                self.error(entry_path, "must be an object with ErrorType and NextAction")
                continue
            self._next((*entry_path, "NextAction"), entry.get("NextAction"))
            error_type = entry.get("ErrorType")
            if not isinstance(error_type, str):
                self.error((*entry_path, "ErrorType"), MISSING_PROPERTY)
                continue
            if error_type in seen:
                self.error((*entry_path, "ErrorType"), f"duplicate ErrorType {error_type}")
            seen.add(error_type)
            if rule is not None:
                allowed = self._allowed_errors(action, rule)
                if error_type not in allowed:
                    expected = ", ".join(sorted(allowed)) or "none"
                    self.error(
                        (*entry_path, "ErrorType"),
                        f"{action['Type']} does not raise {error_type} (allowed: {expected})",
                    )

    def _conditions(
        self, path: tuple[str | int, ...], entries: Any, action: dict[str, Any], rule: ActionRule | None
    ) -> None:
        if not isinstance(entries, list):
            self.error((*path, "Conditions"), "must be a list")
            return
        spec = rule.conditions if rule is not None else None
        stores_input = self._stores_input(action)
        if entries and rule is not None and (spec is None or stores_input):
            reason = ' when StoreInput is "True"' if stores_input else ""
            self.error((*path, "Conditions"), f"Action does not support conditions{reason}")
            return
        if len(entries) > MAX_CONDITIONS:
            self.error((*path, "Conditions"), f"{len(entries)} conditions: at most {MAX_CONDITIONS}")
        matched: set[str] = set()
        for number, entry in enumerate(entries):
            matched |= self._condition((*path, "Conditions", number), entry, action["Type"], spec)
        if spec is not None and not stores_input:
            self._required_conditions(path, entries, action, spec, matched)

    def _condition(
        self, entry_path: tuple[str | int, ...], entry: Any, action_type: str, spec: Conditions | None
    ) -> set[str]:
        """Checks one condition; returns the operands it matches with Equals."""
        if not isinstance(entry, dict) or not isinstance(entry.get("Condition"), dict):
            self.error(entry_path, "must be an object with NextAction and Condition")
            return set()
        self._next((*entry_path, "NextAction"), entry.get("NextAction"))
        condition = entry["Condition"]
        operator = condition.get("Operator")
        operands = condition.get("Operands")
        if operator not in OPERATORS:
            self.error((*entry_path, "Condition", "Operator"), f"unknown operator {operator!r}")
        if not isinstance(operands, list) or not operands or not all(isinstance(item, str) for item in operands):
            self.error((*entry_path, "Condition", "Operands"), "must be a non-empty list of strings")
            return set()
        if spec is None:
            return set()
        if action_type == "GetParticipantInput":
            if operator != "Equals" or len(operands) != 1 or operands[0] not in DTMF_CHARACTERS:
                self.error((*entry_path, "Condition"), "a DTMF condition is Equals one character of 0-9, # or *")
        else:
            if operator in OPERATORS and operator not in spec.operators:
                allowed = ", ".join(sorted(spec.operators))
                self.error((*entry_path, "Condition", "Operator"), f"{action_type} conditions support only {allowed}")
            if spec.operands is not None and not set(operands) <= spec.operands:
                results = ", ".join(sorted(spec.operands))
                self.error(
                    (*entry_path, "Condition", "Operands"),
                    f"{action_type} results are {results}: {', '.join(operands)} can never match",
                )
        return set(operands) if operator == "Equals" else set()

    def _required_conditions(
        self,
        path: tuple[str | int, ...],
        entries: list[Any],
        action: dict[str, Any],
        spec: Conditions,
        matched: set[str],
    ) -> None:
        action_type = action["Type"]
        wanted = list(spec.required)
        if action_type == "Wait" and isinstance(_params(action).get("Events"), list):
            wanted += [str(event) for event in _params(action)["Events"]]
        if wanted and not set(wanted) <= matched:
            listed = " and ".join(f'Equals "{operand}"' for operand in wanted)
            self.error((*path, "Conditions"), f"{action_type} needs conditions {listed}")
        if spec.at_least_one and not entries:
            self.error((*path, "Conditions"), f"{action_type} needs at least one condition")

    def _parameters(self, index: int, action: dict[str, Any], rule: ActionRule) -> None:
        path: tuple[str | int, ...] = ("Actions", index, "Parameters")
        params = _params(action)
        for key in sorted(rule.required - params.keys()):
            self.error((*path, key), MISSING_PROPERTY)
        known = rule.required | rule.optional
        for key in params:
            if key not in known:
                self.error((*path, key), _unknown_parameter(action["Type"], key, known))
        if rule.check is not None:
            rule.check(params, lambda sub, message: self.error((*path, *sub), message))

    def _references(self, index: int, action: dict[str, Any]) -> None:
        base: tuple[str | int, ...] = ("Actions", index, "Parameters")
        for sub, value in walk_strings(_params(action)):
            path = (*base, *sub)
            is_reference, kind = reference_field(sub)
            if self.rendered:
                self._rendered_value(path, value)
                continue
            placeholder = parse_placeholder(value)
            if not is_reference:
                if mentions_placeholder(value):
                    self.error(path, "placeholders are allowed only as the whole value of a resource reference")
                continue
            if is_jsonpath(value):
                continue
            if placeholder is None:
                expected = f"${{{kind}:name}}" if kind else "a JSONPath"
                if mentions_placeholder(value):
                    kinds = ", ".join(KINDS)
                    self.error(
                        path,
                        f"malformed placeholder {value!r}: expected ${{kind:name}}, kind one of {kinds}, name in lower snake case",
                    )
                else:
                    self.error(path, f"resource reference must be {expected}, not a literal value")
            elif placeholder.kind != kind:
                expected = f"a ${{{kind}:...}} placeholder" if kind else "a JSONPath"
                self.error(path, f"{placeholder} is the wrong kind here: expected {expected}")

    def _rendered_value(self, path: tuple[str | int, ...], value: str) -> None:
        """A rendered or exported flow goes to an instance as it is: nothing may be left to fill in."""
        foreign = [token for token in TEMPLATE_TOKEN.findall(value) if parse_placeholder(token) is None]
        if foreign:
            tokens = ", ".join(dict.fromkeys(foreign))
            self.error(
                path,
                f"unfilled template token {tokens}: this file is a template that a deployment script fills in; "
                "fill it in (or export the flow from an instance) before importing it",
            )
        elif mentions_placeholder(value):
            self.error(path, f"unresolved placeholder {value}: render the flow for an instance first")

    def _no_literal_arn(self) -> None:
        if self.rendered:
            return
        for path, value in walk_strings(self.doc):
            if ARN_PATTERN.search(value):
                self.error(path, "literal ARN in a source flow: use a placeholder such as ${queue:general_support}")

    def _size(self) -> None:
        document = self.doc
        if not self.rendered:
            resolver: dict[tuple[str, str], str] = {
                (p.kind, p.name): WORST_CASE_VALUES[p.kind] for p in placeholders_in(dict(self.doc))
            }
            try:
                document = render(self.doc, resolver)
            except UnresolvedPlaceholderError:
                document = self.doc  # malformed placeholders are reported elsewhere
        size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        if not 1 <= size <= MAX_CONTENT_CHARS:
            self.error((), f"content is {size:,} characters when rendered: the limit is {MAX_CONTENT_CHARS:,}")

    def _layout(self) -> None:
        metadata = self.doc.get("Metadata")
        if not isinstance(metadata, dict):
            self.warn(("Metadata",), "no layout metadata: the flow designer will stack every block")
            return
        if not isinstance(metadata.get("entryPointPosition"), dict):
            self.warn(("Metadata", "entryPointPosition"), "missing: the designer places the entry point at random")
        positions = metadata.get("ActionMetadata")
        positions = positions if isinstance(positions, dict) else {}
        for identifier, index in self.identifiers.items():
            entry = positions.get(identifier)
            if not isinstance(entry, dict) or not isinstance(entry.get("position"), dict):
                self.warn(("Actions", index), "no position in Metadata.ActionMetadata: the designer will stack it")
        for identifier in positions:
            if identifier not in self.identifiers:
                self.warn(("Metadata", "ActionMetadata", identifier), "matches no action")

    def _reachability(self) -> None:
        start = self.doc.get("StartAction")
        if start not in self.identifiers:
            return
        by_id = {
            action["Identifier"]: action
            for _, action in self._well_formed()
            if isinstance(action.get("Identifier"), str)
        }
        reached = {start}
        pending = deque([start])
        while pending:
            action = by_id.get(pending.popleft())
            if action is None:
                continue
            for target in targets(action["Transitions"]):
                if target in self.identifiers and target not in reached:
                    reached.add(target)
                    pending.append(target)
        for identifier, index in self.identifiers.items():
            if identifier not in reached:
                self.warn(("Actions", index), f"{identifier!r} is unreachable from StartAction")


def _params(action: Mapping[str, Any]) -> dict[str, Any]:
    params = action.get("Parameters", {})
    return params if isinstance(params, dict) else {}


def _flow_label(flow_type: FlowKind) -> str:
    return "flow modules" if flow_type == MODULE else f"{flow_type} flows"


def _unknown_type(action_type: str) -> str:
    close = difflib.get_close_matches(action_type, ACTION_RULES, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{action_type} is not an action type of the flow language{hint}"


def _unknown_parameter(action_type: str, key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    accepted = ", ".join(sorted(known)) or "none"
    return f"{action_type} has no parameter {key}{hint}; it takes: {accepted}"


def targets(transitions: Mapping[str, Any]) -> list[Any]:
    """Every action a Transitions object can lead to: NextAction, then each error and condition branch."""
    found = [transitions.get("NextAction")]
    for key in ("Errors", "Conditions"):
        entries = transitions.get(key)
        if isinstance(entries, list):
            found += [entry.get("NextAction") for entry in entries if isinstance(entry, dict)]
    return found


def validate_flow(doc: Any, *, rendered: bool = False, flow_type: FlowKind | None = None) -> list[Problem]:
    """Every problem in one flow document; flow-type restrictions apply when `flow_type` is known.

    A document with top-level `Settings` and no flow type given is checked as a flow module.
    """
    if flow_type is None and looks_like_module(doc):
        flow_type = MODULE
    return _Checker(doc, rendered=rendered, flow_type=flow_type).run()


def file_flow_type(
    path: Path, wrapper_type: FlowKind | None, manifest: Manifest | None, flow_type: FlowKind | None
) -> FlowKind | None:
    """The flow type a file is checked against: the one asked for, else its wrapper's, else the manifest's."""
    if flow_type is not None:
        return flow_type
    if wrapper_type is not None:
        return wrapper_type
    if manifest is not None:
        return manifest.kind_for_file(path)
    return None


def validate_file(
    path: Path, *, rendered: bool = False, manifest: Manifest | None = None, flow_type: FlowKind | None = None
) -> list[Problem]:
    """Problems in a flow file (bare, wrapped as the API returns it, or a module).

    The flow type is `flow_type` when given, else the wrapper's `Type`, else the
    manifest's entry for the file; a wrapper and `flow_type` that disagree is an error.
    """
    try:
        loaded = read_flow_file(path)
    except FlowFileError as error:
        return [Problem(Severity.ERROR, "", str(error))]
    if flow_type is not None and loaded.flow_type is not None and flow_type != loaded.flow_type:
        return [
            Problem(
                Severity.ERROR,
                "Type",
                f"the file says its flow type is {loaded.flow_type}, but it is being checked as {flow_type}",
            )
        ]
    return validate_flow(
        loaded.document, rendered=rendered, flow_type=file_flow_type(path, loaded.flow_type, manifest, flow_type)
    )
