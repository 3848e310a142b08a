"""The base of every capability stack: naming, environment, tags, protection."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from aws_cdk import Environment, RemovalPolicy, Stack, Tags
from constructs import Construct

from infra.config import PlatformConfig

if TYPE_CHECKING:
    from infra.capabilities import Capability

S = TypeVar("S", bound="PlatformStack")


class UndeclaredDependencyError(TypeError):
    """A stack used another capability that the maturity table does not list as its dependency."""


class Dependencies:
    """The already-built stacks a capability declared in the maturity table."""

    def __init__(self, capability: Capability, built: dict[str, PlatformStack]) -> None:
        self._capability = capability
        self._built = built

    def require(self, stack_type: type[S]) -> S:
        for name, stack in self._built.items():
            if isinstance(stack, stack_type):
                if name not in self._capability.depends_on:
                    raise UndeclaredDependencyError(
                        f"capability {self._capability.name!r} uses {name!r}; "
                        f"add it to its depends_on in infra/capabilities.py"
                    )
                return stack
        raise UndeclaredDependencyError(
            f"capability {self._capability.name!r} needs {stack_type.__name__}, which is not built at this stage"
        )


class PlatformStack(Stack):
    """A stack for one capability of the maturity table."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: PlatformConfig,
        capability: Capability,
        deps: Dependencies,
    ) -> None:
        name = config.resource_name(capability.name)
        super().__init__(
            scope,
            name,
            stack_name=name,
            description=f"{config.project} ({config.env_name}) stage {capability.stage.label}: {capability.summary}",
            env=Environment(account=config.account, region=config.region),
            termination_protection=config.retain_data,
        )
        self.config = config
        self.capability = capability
        self.deps = deps
        self._tag(capability)
        self.build()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.build is PlatformStack.build:
            raise TypeError(f"{cls.__name__} must define build(), where its resources are created")

    def build(self) -> None:
        """Define the capability's resources; called once, at the end of __init__."""

    def _tag(self, capability: Capability) -> None:
        config = self.config
        for key, value in (
            ("project", config.project),
            ("environment", config.env_name),
            ("maturity-stage", capability.stage.label),
            ("capability", capability.name),
        ):
            Tags.of(self).add(key, value)

    @property
    def stateful_removal_policy(self) -> RemovalPolicy:
        """Tables, streams, buckets and keys: retained outside dev, from config."""
        return RemovalPolicy.RETAIN if self.config.retain_data else RemovalPolicy.DESTROY
