"""Transport-neutral records and dead letters, so the pipeline is driven the same way by Faust, files or tests.

No Kafka client here: the Faust agent converts its events to `Record`s and sends `DeadLetter`s itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from streams.engine.overflow import CallerContact
from streams.warehouse.sink import TableSpec

DEAD_LETTER_TABLE = TableSpec(
    "dead_letter",
    ("received_at", "topic", "stream_partition", "stream_offset", "reason", "payload"),
    key=("topic", "stream_partition", "stream_offset"),
)

# Kafka Connect's convention: the payload stays byte-for-byte in the value, the context goes in headers.
HEADER_REASON = "acd.dlq.reason"
HEADER_TOPIC = "acd.dlq.topic"
HEADER_PARTITION = "acd.dlq.partition"
HEADER_OFFSET = "acd.dlq.offset"


@dataclass(frozen=True)
class Record:
    """One consumed message; `timestamp_ms` is the broker's, so a replay dates its dead letters identically."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (HEADER_REASON, self.reason.encode()),
            (HEADER_TOPIC, self.record.topic.encode()),
            (HEADER_PARTITION, str(self.record.partition).encode()),
            (HEADER_OFFSET, str(self.record.offset).encode()),
        ]

    def row(self) -> tuple[datetime, str, int, int, str, bytes]:
        received = datetime.fromtimestamp(self.record.timestamp_ms / 1000, tz=UTC)
        return (
            received,
            self.record.topic,
            self.record.partition,
            self.record.offset,
            self.reason,
            self.record.value or b"",
        )


def encode_caller_contact(contact: CallerContact) -> tuple[bytes, bytes]:
    """(key, value) for the caller-keyed topic: one caller's calls meet on one partition."""
    value = orjson.dumps(contact._asdict())
    return f"{contact.tenant}|{contact.caller_hash}".encode(), value


def decode_caller_contact(payload: bytes) -> CallerContact:
    try:
        data = orjson.loads(payload)
        contact = CallerContact(**data)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"not a caller-contact record: {exc}") from None
    if not isinstance(contact.arrived_ms, int) or not isinstance(contact.caller_hash, str):
        raise ValueError("not a caller-contact record: arrived_ms must be an integer, caller_hash a string")
    return contact
