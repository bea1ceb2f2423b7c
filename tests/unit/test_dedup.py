"""The de-duplicator's checkpoint: ids packed as hex survive a round trip, and checkpoints written before the
packing (lists of UUID strings) still restore."""

from __future__ import annotations

from uuid import UUID
from uuid import uuid4

from streams.engine.dedup import Deduplicator


def test_snapshot_round_trip_keeps_every_id_and_its_hour() -> None:
    dedup = Deduplicator()
    ids = [uuid4() for _ in range(50)]
    for n, event_id in enumerate(ids):
        assert dedup.first_time(event_id.int, n * 600_000)  # ten minutes apart: 9 hourly buckets
    restored = Deduplicator.restore(dedup.snapshot())
    assert len(restored) == 50
    assert not any(restored.first_time(event_id.int, n * 600_000) for n, event_id in enumerate(ids))
    assert restored.first_time(uuid4().int, 0)
    restored.forget_before(3_600_000)  # the first hour's 6 ids are forgotten
    assert len(restored) == 50 + 1 - 7


def test_a_checkpoint_from_before_the_packing_restores() -> None:
    old = {"0": ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-00000000000a"]}
    dedup = Deduplicator.restore(old)  # type: ignore[arg-type]
    assert not dedup.first_time(UUID("00000000-0000-4000-8000-00000000000a").int, 5)
    assert dedup.first_time(UUID("00000000-0000-4000-8000-000000000002").int, 5)
