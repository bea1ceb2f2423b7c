"""De-duplication by event id over the whole correction horizon, in bounded and compact memory.

An event is accepted up to `retention_hours` behind its tenant's watermark (later ones are refused, to the dead
letters, before they get here), so its id is remembered for exactly as long: an id forgotten earlier would let
a day re-sent a few hours later (a replay re-run, a vendor re-sending its records) be counted twice. Ids are
kept per hour of event time and an hour is forgotten only once no tenant of the partition can send an event
of that hour any more; nothing is silently dropped and memory does not grow with the stream.

Holding 48 hours of ids as Python ints in sets would cost ~110 bytes an id (int object and set slot), so an
hour that in-order events can no longer reach is frozen into a sorted array of 16-byte ids, searched by
bisection; only the last couple of hours, where nearly every event lands, stay sets (~18 bytes an id overall,
measured by bench/memory.py). Membership stays exact, the full 128
bits compared: a truncated hash would sooner or later call a real event a duplicate and drop it silently.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from collections.abc import Mapping
from itertools import repeat
from typing import Literal
from uuid import UUID

import numpy as np
import numpy.typing as npt

_BUCKET_MS = 3_600_000
# An hour is frozen once it ended this long before the lowest watermark of the partition: in-order events and
# the usual late ones (vendor reports of the last intervals, retried sends) land in the hours after it.
FREEZE_AFTER_MS = 3_600_000
# The late ids of a frozen hour are merged into its array once they are this many, or a sixteenth of it: a
# merge copies the hour, so merging on every late id would be quadratic; this keeps it amortised.
_MERGE_LATE_AT = 1_024
# Big-endian 16-byte ids: byte order (how numpy sorts and compares unstructured voids) is numeric order.
_ID = np.dtype("V16")

Ids = npt.NDArray[np.void]


def _as_array(ids: Iterable[int]) -> Ids:
    big: Literal["big"] = "big"
    return _sorted(np.frombuffer(b"".join(map(int.to_bytes, ids, repeat(16), repeat(big))), dtype=_ID))


def _sorted(ids: Ids) -> Ids:
    """`np.sort` of 16-byte voids compares them byte by byte, a third of the cost of freezing an hour; ordered
    by their first 8 bytes as integers instead, and sorted fully only if two share them (random ids do not,
    sequential ones may)."""
    high = ids.view(">u8")[::2]
    order = np.argsort(high, kind="stable")
    out = ids[order]
    high = high[order]
    if bool((high[1:] == high[:-1]).any()):
        out.sort()
    return out


def _hex(ids: Iterable[int]) -> str:
    return "".join([format(i, "032x") for i in ids])


class _Frozen:
    """One frozen hour: its ids sorted, and the ids that arrived for it since (late events, new to it)."""

    __slots__ = ("ids", "late")

    def __init__(self, ids: Ids) -> None:
        self.ids = ids
        self.late: set[int] = set()

    def __contains__(self, event_id: int) -> bool:
        if event_id in self.late:
            return True
        probe = np.void(event_id.to_bytes(16, "big"))
        ids = self.ids
        at = int(ids.searchsorted(probe))
        return at < len(ids) and bool(ids[at] == probe)

    def __len__(self) -> int:
        return len(self.ids) + len(self.late)

    def merge_late(self) -> None:
        """Late ids are never in `ids` (they were checked against it), so a concatenation holds no repeats."""
        if self.late:
            self.ids = _sorted(np.concatenate((self.ids, _as_array(self.late))))
            self.late = set()

    def nbytes(self) -> int:
        return sys.getsizeof(self.ids) + _set_bytes(self.late)

    def hex(self) -> str:
        return self.ids.tobytes().hex() + _hex(self.late)


def _set_bytes(ids: set[int]) -> int:
    return sys.getsizeof(ids) + sum(map(sys.getsizeof, ids))


class Deduplicator:
    """Ids are kept as their 128-bit integers in the hours still hot: an int hashes in C and is invisible to the
    cyclic collector, where a `UUID` hashes in Python and is one more tracked object per remembered event.

    `first_time` is in the worker's hottest loop: an event of a hot hour costs one dict and one set lookup, as
    before freezing existed; only events of frozen hours (late ones, or a re-sent day) pay for a bisection."""

    def __init__(self) -> None:
        self._buckets: dict[int, set[int]] = {}  # the hot hours
        self._frozen: dict[int, _Frozen] = {}

    def first_time(self, event_id: int, ts_ms: int) -> bool:
        bucket_key = ts_ms - ts_ms % _BUCKET_MS
        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            return self._first_time_cold(event_id, bucket_key)
        if event_id in bucket:
            return False
        bucket.add(event_id)
        return True

    def _first_time_cold(self, event_id: int, bucket_key: int) -> bool:
        frozen = self._frozen.get(bucket_key)
        if frozen is None:  # a new hour (at the front, or of a tenant behind the others): hot until frozen
            self._buckets[bucket_key] = {event_id}
            return True
        if event_id in frozen:
            return False
        frozen.late.add(event_id)
        return True

    def settle(self, lowest_watermark_ms: int, keep_ms: int) -> None:
        """After a batch: forget the hours no tenant may send any more (`keep_ms` behind the lowest watermark of
        the partition, the acceptance horizon of the tenant furthest behind), freeze those in-order events have
        left behind."""
        self.forget_before(lowest_watermark_ms - keep_ms)
        self.freeze_before(lowest_watermark_ms - FREEZE_AFTER_MS)

    def forget_before(self, horizon_ms: int) -> None:
        for buckets in (self._buckets, self._frozen):
            for key in [key for key in buckets if key + _BUCKET_MS <= horizon_ms]:
                del buckets[key]

    def freeze_before(self, line_ms: int) -> None:
        for key in [key for key in self._buckets if key + _BUCKET_MS <= line_ms]:
            self._frozen[key] = _Frozen(_as_array(self._buckets.pop(key)))
        for frozen in self._frozen.values():
            if len(frozen.late) >= max(_MERGE_LATE_AT, len(frozen.ids) >> 4):
                frozen.merge_late()

    def __len__(self) -> int:
        return sum(map(len, self._buckets.values())) + sum(map(len, self._frozen.values()))

    @property
    def frozen_ids(self) -> int:
        return sum(map(len, self._frozen.values()))

    def nbytes(self) -> int:
        """Bytes held (containers and id objects, by `sys.getsizeof`): what the memory benchmark reports."""
        hot = sum(map(_set_bytes, self._buckets.values()))
        return (
            sys.getsizeof(self._buckets)
            + sys.getsizeof(self._frozen)
            + hot
            + sum(frozen.nbytes() for frozen in self._frozen.values())
        )

    def snapshot(self) -> dict[str, str]:
        """Each hour's ids as one string of 32-hex-digit ids: checkpoints are written every few seconds and
        hold the horizon's ids, so this is the bulk of a checkpoint's work; a frozen hour is one `hex()` of its
        array, without a Python object per id. The order of the ids within an hour is not kept."""
        out = {str(key): _hex(bucket) for key, bucket in self._buckets.items()}
        out.update((str(key), frozen.hex()) for key, frozen in self._frozen.items())
        return out

    @classmethod
    def restore(
        cls, data: Mapping[str, str | list[str]], freeze_before_ms: int | None = None
    ) -> Deduplicator:
        """Hours ending by `freeze_before_ms` are restored frozen (from the hex, without a Python int per id),
        the others hot; without it, every hour is hot until the first `settle`."""
        dedup = cls()
        for text_key, ids in data.items():
            key = int(text_key)
            frozen = freeze_before_ms is not None and key + _BUCKET_MS <= freeze_before_ms
            if not isinstance(ids, str):  # checkpoints written before ids were packed: a list of UUID strings
                ids = _hex(UUID(value).int for value in ids)
            if frozen:
                # Sorted again: a hot hour is written in set order (and an hour's ids never repeat).
                dedup._frozen[key] = _Frozen(_sorted(np.frombuffer(bytes.fromhex(ids), dtype=_ID)))
            else:
                dedup._buckets[key] = {int(ids[i : i + 32], 16) for i in range(0, len(ids), 32)}
        return dedup

    def oldest_hour(self) -> int | None:
        """The start of the oldest hour remembered, if any."""
        return min([*self._buckets, *self._frozen], default=None)
