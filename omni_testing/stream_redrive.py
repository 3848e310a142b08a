"""An in-memory on-failure queue with the semantics of SQS the redrive relies on; for the redrive tests."""

from __future__ import annotations

from stream_redrive.ports import QueuedMessage, QueueOperationError


class FakeQueue:
    """SQS's semantics the redrive relies on: each receive hides a message under a new receipt handle; a delete
    under an older handle answers but does not delete; a release under one is refused (MessageNotInflight)."""

    def __init__(self, *bodies: str) -> None:
        self.messages = {f"m-{n}": QueuedMessage(f"m-{n}", f"r-{n}", body) for n, body in enumerate(bodies, 1)}
        self.hidden: set[str] = set()
        self.released: list[str] = []
        self.log: list[str] = []
        self.refuse_delete: set[str] = set()
        self.refuse_release: set[str] = set()
        self._handles: dict[str, str] = {}

    def receive(self, limit: int) -> list[QueuedMessage]:
        if limit > 10:
            raise ValueError(f"SQS receives at most 10 messages at once, not {limit}")
        visible = [m for m in self.messages.values() if m.message_id not in self.hidden][:limit]
        self.hidden.update(m.message_id for m in visible)
        page = []
        for message in visible:
            handle = f"{message.receipt_handle}#{len(self.log)}"
            self._handles[message.message_id] = handle
            page.append(QueuedMessage(message.message_id, handle, message.body))
        self.log.append(f"receive {len(page)}")
        return page

    def time_out(self, message_id: str) -> None:
        """The message's visibility timeout ran out: visible again, its handle no longer in flight."""
        self.hidden.discard(message_id)
        self._handles.pop(message_id, None)

    def delete(self, message: QueuedMessage) -> None:
        self.log.append(f"delete {message.message_id}")
        if message.message_id in self.refuse_delete:
            raise QueueOperationError("AccessDenied")
        if self._handles.get(message.message_id) == message.receipt_handle:
            del self.messages[message.message_id]
            self.hidden.discard(message.message_id)

    def release(self, message: QueuedMessage) -> None:
        self.log.append(f"release {message.message_id}")
        if message.message_id in self.refuse_release:
            raise QueueOperationError("AccessDenied")
        if self._handles.get(message.message_id) != message.receipt_handle:
            raise QueueOperationError("MessageNotInflight")
        self.hidden.discard(message.message_id)
        self.released.append(message.message_id)
