"""SageMaker side of the clean-up: the inventory of the pipeline's artefacts and their removal.

Only artefacts named `propensity-...` *and* tagged `omni:pipeline=<this pipeline>` are the pipeline's;
anything else in the account is never listed as removable. What endpoints use is read from the
endpoints themselves: the given ones (the pipeline's function may describe only its own endpoint), or
every endpoint of the region when none is given (`omni propensity cleanup`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from model_cleanup.cleanup import SETTLED_ENDPOINT_STATES, Artefact, Inventory, Kind
from model_cleanup.constants import ARTEFACT_PREFIX, PIPELINE_TAG
from model_cleanup.errors import CleanupError

_LISTS = {
    Kind.MODEL: ("list_models", "Models", "ModelName", "ModelArn"),
    Kind.ENDPOINT_CONFIG: ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn"),
}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _missing(error: ClientError) -> bool:
    # SageMaker answers ValidationException "Could not find ..." for a model, config or endpoint that is gone.
    return _code(error) in {"ValidationException", "ResourceNotFound"} and "could not find" in str(error).lower()


class SageMakerArtefacts:
    def __init__(self, client: Any, *, pipeline: str) -> None:
        self._client = client
        self._pipeline = pipeline

    def inventory(self, endpoints: Sequence[str] | None = None) -> Inventory:
        artefacts = tuple(artefact for kind in Kind for artefact in self._artefacts(kind))
        configs: set[str] = set()
        unsettled: list[str] = []
        for name in self._endpoint_names() if endpoints is None else endpoints:
            endpoint = self._call("describe_endpoint", name, missing_ok=True, EndpointName=name)
            if endpoint is None:  # not created yet (the pipeline's first run) or deleted
                continue
            status = str(endpoint.get("EndpointStatus", ""))
            if status not in SETTLED_ENDPOINT_STATES:
                unsettled.append(f"{name} ({status})")
            configs.add(str(endpoint["EndpointConfigName"]))
            pending = endpoint.get("PendingDeploymentSummary", {}).get("EndpointConfigName")
            if pending:
                configs.add(str(pending))
        models: set[str] = set()
        for config in sorted(configs):
            described = self._call("describe_endpoint_config", config, missing_ok=True, EndpointConfigName=config)
            for variant in (described or {}).get("ProductionVariants", []) + (described or {}).get(
                "ShadowProductionVariants", []
            ):
                models.add(str(variant["ModelName"]))
        return Inventory(
            artefacts=artefacts,
            configs_in_use=frozenset(configs),
            models_in_use=frozenset(models),
            unsettled_endpoints=tuple(unsettled),
        )

    def remove(self, artefact: Artefact) -> bool:
        """Remove one artefact; False when it was already gone."""
        if artefact.kind is Kind.MODEL:
            done = self._call("delete_model", artefact.name, missing_ok=True, ModelName=artefact.name)
        else:
            done = self._call(
                "delete_endpoint_config", artefact.name, missing_ok=True, EndpointConfigName=artefact.name
            )
        return done is not None

    def _artefacts(self, kind: Kind) -> Iterator[Artefact]:
        operation, key, name_key, arn_key = _LISTS[kind]
        for page in self._pages(operation, key, NameContains=ARTEFACT_PREFIX):
            for item in page:
                name = str(item[name_key])
                # NameContains also matches the prefix inside a name: only names that start with it count.
                if name.startswith(ARTEFACT_PREFIX) and self._ours(str(item[arn_key])):
                    yield Artefact(kind, name, item["CreationTime"])

    def _ours(self, arn: str) -> bool:
        for tags in self._pages("list_tags", "Tags", ResourceArn=arn):
            if any(tag["Key"] == PIPELINE_TAG and tag["Value"] == self._pipeline for tag in tags):
                return True
        return False

    def _endpoint_names(self) -> Iterator[str]:
        for page in self._pages("list_endpoints", "Endpoints"):
            yield from (str(endpoint["EndpointName"]) for endpoint in page)

    def _pages(self, operation: str, key: str, **request: Any) -> Iterator[list[dict[str, Any]]]:
        try:
            for page in self._client.get_paginator(operation).paginate(**request):
                yield page.get(key, [])
        except ClientError as error:
            raise CleanupError(f"SageMaker {operation} failed ({_code(error)})") from error

    def _call(self, operation: str, name: str, *, missing_ok: bool, **request: Any) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**request)
        except ClientError as error:
            if missing_ok and _missing(error):
                return None
            raise CleanupError(f"SageMaker {operation} {name} failed ({_code(error)})") from error
        return response
