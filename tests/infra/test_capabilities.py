"""The maturity table: dependencies point only to the same or lower stages, declared and built first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aws_cdk import App, aws_sns

from infra.capabilities import CAPABILITIES, Capability, capabilities_up_to
from infra.config import config_for, read_cdk_json_context
from infra.platform_app import build_platform
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack, UndeclaredDependencyError
from infra.stages import Stage


def dependency_problems(table: tuple[Capability, ...]) -> list[str]:
    """What breaks the table's rules (kept beside the tests that use it on the real and on planted tables)."""
    problems = []
    position = {capability.name: index for index, capability in enumerate(table)}
    by_name = {capability.name: capability for capability in table}
    if len(by_name) != len(table):
        problems.append("capability names are not unique")
    for index, capability in enumerate(table):
        for dependency in capability.depends_on:
            if dependency not in by_name:
                problems.append(f"{capability.name} depends on unknown {dependency}")
            elif by_name[dependency].stage > capability.stage:
                problems.append(f"{capability.name} (stage {capability.stage}) depends on a higher stage: {dependency}")
            elif position[dependency] > index:
                problems.append(f"{capability.name} is listed before its dependency {dependency}")
    return problems


def test_the_maturity_table_respects_the_stage_rule() -> None:
    assert CAPABILITIES
    assert dependency_problems(CAPABILITIES) == []


def test_the_stage_rule_catches_a_dependency_on_a_higher_stage() -> None:
    foundation = CAPABILITIES[0]
    planted = (replace(foundation, depends_on=("later",)), replace(foundation, name="later", stage=Stage.SEAMLESS))
    assert dependency_problems(planted) == ["foundation (stage 1) depends on a higher stage: later"]


def test_each_stage_deploys_exactly_its_capabilities_and_those_below() -> None:
    for stage in Stage:
        names = {capability.name for capability in capabilities_up_to(stage)}
        assert names == {capability.name for capability in CAPABILITIES if capability.stage <= stage}
    assert {capability.name for capability in capabilities_up_to(Stage.DISJOINTED)} >= {"foundation"}


def _app() -> App:
    return App(context=read_cdk_json_context())  # the feature flags of cdk.json, as the CLI gives them


class _UsesFoundation(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        aws_sns.Topic(self, "Uses", master_key=foundation.key)


def test_a_stack_cannot_use_an_undeclared_capability() -> None:
    # Given a stage-2 capability that uses the foundation without declaring it
    table = (*CAPABILITIES, Capability("sneaky", Stage.CONSISTENT, "uses undeclared", _UsesFoundation))
    # When the app is built, Then the table is named as the place to fix it
    with pytest.raises(
        UndeclaredDependencyError, match="capability 'sneaky' uses 'foundation'; add it to its depends_on"
    ):
        build_platform(_app(), config_for("dev", 2), table)


def test_a_declared_dependency_is_handed_to_the_stack() -> None:
    table = (*CAPABILITIES, Capability("honest", Stage.CONSISTENT, "declares it", _UsesFoundation, ("foundation",)))
    built = build_platform(_app(), config_for("dev", 2), table)
    assert isinstance(built["honest"], _UsesFoundation)
    assert built["honest"].deps.require(FoundationStack) is built["foundation"]


def test_a_stack_class_must_define_build() -> None:
    with pytest.raises(TypeError, match="must define build"):
        type("Empty", (PlatformStack,), {})


def test_the_readme_stage_table_lists_every_capability_at_its_stage() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for capability in CAPABILITIES:
        assert f"| {capability.stage.value} | {capability.stage.title} | `{capability.name}` |" in readme, (
            capability.name
        )
