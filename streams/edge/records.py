"""Transport-neutral records and dead letters, so the pipeline is driven the same way by Faust, files or tests.

No Kafka client here: the Faust agent converts its events to `Record`s and sends `DeadLetter`s itself.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import orjson

from streams.engine.overflow import CallerContact
from streams.engine.timebase import FIRST_MS
from streams.engine.timebase import LAST_MS

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


def caller_partition(contact: CallerContact, partitions: int) -> int:
    """Where a caller's calls meet: a stable hash of (tenant, caller), the same in every worker process."""
    return zlib.crc32(f"{contact.tenant}|{contact.caller_hash}".encode()) % partitions


def encode_caller_contacts(contacts: Sequence[CallerContact], partitions: int) -> dict[int, bytes]:
    """One message per partition of the caller-keyed topic, holding every outcome of a batch bound for it.

    Per-outcome messages cost a produce and a consume each, as much as counting the events that made them;
    a message per partition and batch keeps the caller-keyed grouping at a few messages per batch.
    """
    by_partition: dict[int, list[dict[str, Any]]] = {}
    for contact in contacts:
        by_partition.setdefault(caller_partition(contact, partitions), []).append(contact._asdict())
    return {partition: orjson.dumps(items) for partition, items in by_partition.items()}


def decode_caller_contacts(payload: bytes) -> list[CallerContact]:
    """The outcomes of one caller-topic message (a list; a single object from older workers is one outcome)."""
    try:
        data = orjson.loads(payload)
        items = data if isinstance(data, list) else [data]
        contacts = [CallerContact(**item) for item in items]
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"not a caller-contact record: {exc}") from None
    if not contacts:
        raise ValueError("not a caller-contact record: an empty list")
    # Every field is checked: the repeat engine keys and compares them, and a list or a dict there would
    # stop the worker instead of making one dead letter.
    for contact in contacts:
        if (
            type(contact.arrived_ms) is not int
            or not FIRST_MS <= contact.arrived_ms <= LAST_MS  # the engines make a datetime of it
            or not isinstance(contact.tenant, str)
            or not isinstance(contact.caller_hash, str)
            or not isinstance(contact.initial_contact_id, str)
            or not isinstance(contact.call_type, str)
            or not (contact.handled_by is None or isinstance(contact.handled_by, str))
        ):
            raise ValueError(
                "not a caller-contact record: arrived_ms must be an integer of a year 1-9999 time,"
                " handled_by a string or null, the other fields strings"
            )
    return contacts
