"""De-duplication by event id with bounded memory: ids are remembered per hour of event time and forgotten
once the watermark is past the retention horizon.

An event older than the horizon cannot be checked, so the partition engine refuses it (to the dead letters)
before it gets here; nothing is silently dropped and memory does not grow with the stream.
"""

from __future__ import annotations

from uuid import UUID

_BUCKET_MS = 3_600_000


class Deduplicator:
    """Ids are kept as their 128-bit integers: an int hashes in C and is invisible to the cyclic collector,
    where a `UUID` hashes in Python and is one more tracked object per remembered event."""

    def __init__(self) -> None:
        self._buckets: dict[int, set[int]] = {}

    def first_time(self, event_id: int, ts_ms: int) -> bool:
        bucket_key = ts_ms - ts_ms % _BUCKET_MS
        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            bucket = self._buckets[bucket_key] = set()
        elif event_id in bucket:
            return False
        bucket.add(event_id)
        return True

    def forget_before(self, horizon_ms: int) -> None:
        for key in [key for key in self._buckets if key + _BUCKET_MS <= horizon_ms]:
            del self._buckets[key]

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())

    def snapshot(self) -> dict[str, str]:
        """Each hour's ids as one string of 32-hex-digit ids: checkpoints are written every few seconds and
        hold hours of ids, so this is the bulk of a checkpoint's work."""
        return {
            str(key): "".join([format(i, "032x") for i in bucket]) for key, bucket in self._buckets.items()
        }

    @classmethod
    def restore(cls, data: dict[str, str | list[str]]) -> Deduplicator:
        dedup = cls()
        for key, ids in data.items():
            if isinstance(ids, str):
                dedup._buckets[int(key)] = {int(ids[i : i + 32], 16) for i in range(0, len(ids), 32)}
            else:  # checkpoints written before ids were packed: a list of UUID strings
                dedup._buckets[int(key)] = {UUID(value).int for value in ids}
        return dedup
