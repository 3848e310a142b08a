"""Two moto costs the sandbox cannot afford, both linear in the table size per request.

- moto 5.2 backs up every table a `TransactWriteItems` touches with `copy.deepcopy`
  before applying it: loading 1,600 golden profiles (one transaction each) took
  five minutes. Here the backup is of the items the transaction names, and of the
  length of each table's stream shard. When the transaction is cancelled the items
  go back into the table's item store directly (no `put_item`/`delete_item`, which
  would write stream records) and each stream shard is cut back to its length
  before the transaction, so a cancelled transaction leaves no stream record:
  what moto's own rollback (the whole table, stream shard included) leaves.
- A `Query` on a table's own key sorts every item of the table to keep one
  partition's. Here it looks at that partition only.

- Every event EventBridge delivers is shaped through jsonpath expressions that
  moto parses again (a yacc parser build) for every target of every event.
  Here each expression is parsed once.

Observable behaviour (conditions, cancellation reasons, all-or-nothing, ordering)
stays moto's own: its methods still run, on less data.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonpath_ng.ext as jsonpath_ext
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One item a transaction names, as it was before (None: absent), and where it lives in its table."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    before: Item | None


def _snapshots(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Snapshot]:
    snapshots = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.get_table(operation["TableName"])
        key = operation["Key"] if "Key" in operation else operation["Item"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
        before = table.get_item(hash_key, range_key)
        snapshots.append(_Snapshot(table, hash_key, range_key, copy.deepcopy(before)))
    return snapshots


def _stream_lengths(snapshots: list[_Snapshot]) -> dict[int, tuple[StreamShard, int]]:
    """Each stream shard of the tables involved, with the number of records it holds now."""
    return {
        id(snapshot.table): (shard, len(shard.items))
        for snapshot in snapshots
        if (shard := snapshot.table.stream_shard) is not None
    }


def _restore(snapshots: list[_Snapshot], streams: dict[int, tuple[StreamShard, int]]) -> None:
    """Put every item back as it was, in the table's own store, and cut the stream shards back: no stream record."""
    for snapshot in reversed(snapshots):
        items: Any = snapshot.table.items
        if snapshot.range_key is None:
            if snapshot.before is None:
                items.pop(snapshot.hash_key, None)
            else:
                items[snapshot.hash_key] = snapshot.before
        elif snapshot.before is None:
            partition = items.get(snapshot.hash_key)
            if partition is not None:
                partition.pop(snapshot.range_key, None)
        else:
            items[snapshot.hash_key][snapshot.range_key] = snapshot.before
    for shard, length in streams.values():
        del shard.items[length:]


def _shared(table: Table, _memo: dict[int, Any]) -> Table:
    return table


@contextlib.contextmanager
def faster_moto() -> Iterator[None]:
    with _item_level_transaction_backups(), _partition_queries(), _parsed_once():
        yield


@contextlib.contextmanager
def _parsed_once() -> Iterator[None]:
    original = jsonpath_ext.parse
    jsonpath_ext.parse = functools.lru_cache(maxsize=512)(original)  # moto imports it at each call
    try:
        yield
    finally:
        jsonpath_ext.parse = original


@contextlib.contextmanager
def _partition_queries() -> Iterator[None]:
    original_query, original_all_items = Table.query, Table.all_items
    partition: dict[int, Any] = {}  # id(table) -> the hash key its running query reads

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        partition[id(self)] = hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            partition.pop(id(self), None)

    def all_items(self: Table) -> list[Any]:
        if id(self) not in partition:
            return original_all_items(self)
        found = self.items.get(partition[id(self)])
        if found is None:
            return []
        items = list(found.values()) if self.range_key_attr else [found]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query, Table.all_items = original_query, original_all_items  # type: ignore[method-assign]


@contextlib.contextmanager
def _item_level_transaction_backups() -> Iterator[None]:
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        try:
            snapshots = _snapshots(self, transact_items)
        except Exception:  # noqa: BLE001 - a malformed request: moto's own method raises the right error
            return original(self, transact_items)
        streams = _stream_lengths(snapshots)
        # While moto runs, its "backup" of a table is the table itself; the items are restored below instead.
        Table.__deepcopy__ = _shared  # type: ignore[attr-defined]
        try:
            return original(self, transact_items)
        except Exception:
            _restore(snapshots, streams)
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
