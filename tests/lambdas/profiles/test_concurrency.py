"""Two PATCHes based on the same version: exactly one succeeds, the other is told its version is stale."""

from __future__ import annotations

import threading
from typing import Any

from omni_domain.repositories import StoredCustomer
from profiles import dependencies
from tests.lambdas.conftest import CUSTOMER_ID, Invoke, api_event


def test_same_version_patches_one_200_one_412(invoke: Invoke) -> None:
    invoke(api_event("put_customer", headers={"Idempotency-Key": None}))
    repository: Any = dependencies.current().service.customers
    read, save = repository.get, repository.save
    both_read = threading.Barrier(2)
    one_writer = threading.Lock()  # DynamoDB applies conditional writes to one item one at a time; moto needs help

    def get_then_wait(customer_id: str) -> StoredCustomer:
        stored = read(customer_id)
        both_read.wait(timeout=5)  # both requests have read version 1 before either writes
        return stored

    def save_alone(*args: Any, **kwargs: Any) -> None:
        with one_writer:
            save(*args, **kwargs)

    repository.get, repository.save = get_then_wait, save_alone
    statuses: list[int] = []

    def patch(name: str) -> None:
        event = api_event("patch_customer", headers={"Idempotency-Key": None}, body={"first_name": name})
        statuses.append(invoke(event)["statusCode"])

    threads = [threading.Thread(target=patch, args=(name,)) for name in ("Augusta", "Ada")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    repository.get, repository.save = read, save

    assert sorted(statuses) == [200, 412]
    assert dependencies.current().service.get(CUSTOMER_ID).version == 2
