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

from streams.engine.alerts import AlertInput
from streams.engine.alerts import OverflowPart
from streams.engine.alerts import QualityPart
from streams.engine.alerts import QueuePart
from streams.engine.alerts import SeverePart
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


def alert_partition(tenant: str, partitions: int) -> int:
    """Where a tenant's alert inputs meet: a stable hash of the tenant, the same in every worker process."""
    return zlib.crc32(tenant.encode()) % partitions


def encode_alert_inputs(inputs: Sequence[AlertInput], partitions: int) -> dict[int, bytes]:
    """One message per partition of the alert-input topic, holding every input of a batch bound for it."""
    by_partition: dict[int, list[Any]] = {}
    for item in inputs:
        by_partition.setdefault(alert_partition(item.tenant, partitions), []).append(
            [item.upstream, item.tenant, item.watermark, [list(q) for q in item.quality],
             [list(o) for o in item.overflow], [list(w) for w in item.queue], [list(a) for a in item.severe]]
        )  # fmt: skip
    return {partition: orjson.dumps(items) for partition, items in by_partition.items()}


_QUALITY_TYPES = (str, str, int, str, int, int, int, (int, type(None)))
_OVERFLOW_TYPES = (str, str, int, int, int, (int, type(None)))
_QUEUE_TYPES = (str, int, int, int)
_SEVERE_TYPES = (str, int, int)


def _typed(values: Any, types: tuple[Any, ...]) -> bool:
    return (
        isinstance(values, list)
        and len(values) == len(types)
        and all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types, strict=True))
    )


def _valid_input(item: Any) -> bool:
    """[upstream, tenant, watermark, quality parts, overflow parts, queue parts, severe parts] (workers before
    the oldest-wait and severe-adherence rules send fewer), every interval start a year 1-9999 time (the stage makes datetimes of them)."""
    if not (isinstance(item, list) and len(item) in (5, 6, 7) and _typed(item[:3], (str, str, int))):
        return False
    quality, overflow = item[3], item[4]
    queue = item[5] if len(item) > 5 else []
    severe = item[6] if len(item) > 6 else []
    return (
        isinstance(quality, list)
        and isinstance(overflow, list)
        and isinstance(queue, list)
        and isinstance(severe, list)
        and all(_typed(a, _SEVERE_TYPES) and FIRST_MS <= a[1] <= LAST_MS for a in severe)
        and all(_typed(q, _QUALITY_TYPES) and FIRST_MS <= q[2] <= LAST_MS for q in quality)
        and all(_typed(o, _OVERFLOW_TYPES) and FIRST_MS <= o[2] <= LAST_MS for o in overflow)
        and all(_typed(w, _QUEUE_TYPES) and FIRST_MS <= w[1] <= LAST_MS for w in queue)
    )


def decode_alert_inputs(payload: bytes) -> list[AlertInput]:
    """The inputs of one alert-input message; every field is checked (the stage keys and sums them, and a
    wrong type there would stop the worker instead of making one dead letter)."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not an alert-input record: {exc}") from None
    if not isinstance(data, list) or not data or not all(_valid_input(item) for item in data):
        raise ValueError(
            "not an alert-input record: a non-empty list of [upstream, tenant, watermark ms, quality parts,"
            " overflow parts], with integer counters and interval starts"
        )
    return [
        AlertInput(upstream, tenant, watermark, [QualityPart(*q) for q in quality],
                   [OverflowPart(*o) for o in overflow], [QueuePart(*w) for w in (rest[0] if rest else [])],
                   [SeverePart(*a) for a in (rest[1] if len(rest) > 1 else [])])
        for upstream, tenant, watermark, quality, overflow, *rest in data
    ]  # fmt: skip
