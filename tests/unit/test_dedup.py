"""The de-duplicator: ids packed as hex survive a checkpoint round trip, checkpoints written before the
packing (lists of UUID strings) still restore, and hours frozen into sorted arrays answer exactly as sets."""

from __future__ import annotations

from random import Random
from unittest.mock import patch
from uuid import UUID
from uuid import uuid4

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from streams.engine import dedup as dedup_module
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
    dedup = Deduplicator.restore(old)
    assert not dedup.first_time(UUID("00000000-0000-4000-8000-00000000000a").int, 5)
    assert dedup.first_time(UUID("00000000-0000-4000-8000-000000000002").int, 5)


HOUR = 3_600_000


def _spread(dedup: Deduplicator, hours: int, per_hour: int) -> list[tuple[int, int]]:
    seen = []
    for n in range(hours * per_hour):
        event_id, ts_ms = uuid4().int, (n // per_hour) * HOUR + n % per_hour
        assert dedup.first_time(event_id, ts_ms)
        seen.append((event_id, ts_ms))
    return seen


def test_a_frozen_hour_still_recognises_its_ids_and_takes_new_ones() -> None:
    dedup = Deduplicator()
    seen = _spread(dedup, hours=6, per_hour=40)
    dedup.settle(6 * HOUR, keep_ms=48 * HOUR)  # hours ending an hour or more before the watermark freeze
    assert (len(dedup), dedup.frozen_ids) == (240, 200)
    assert not any(dedup.first_time(event_id, ts_ms) for event_id, ts_ms in seen)
    late = uuid4().int
    assert dedup.first_time(late, 2 * HOUR + 5)  # new to a frozen hour: a late event, counted
    assert not dedup.first_time(late, 2 * HOUR + 6)
    assert len(dedup) == 241


def test_a_frozen_hour_compares_all_128_bits() -> None:
    """Ids that share their first 64 bits (sequential vendor ids) or differ in one bit are told apart."""
    dedup = Deduplicator()
    base = UUID("00000000-0000-4000-8000-000000000000").int
    kept = [base + 2 * Random(n).getrandbits(60) for n in range(500)]  # not in set order
    for event_id in kept:
        dedup.first_time(event_id, 10)
    dedup.settle(3 * HOUR, keep_ms=48 * HOUR)
    assert dedup.frozen_ids == 500
    assert not any(dedup.first_time(event_id, 10) for event_id in kept)
    assert all(dedup.first_time(event_id + 1, 10) for event_id in kept)
    assert dedup.first_time(base ^ (1 << 127), 10)
    assert dedup.first_time(2**128 - 1, 10)
    assert dedup.first_time(0, 10)
    assert not dedup.first_time(0, 10)


def test_late_ids_of_a_frozen_hour_are_merged_into_it() -> None:
    dedup = Deduplicator()
    _spread(dedup, hours=1, per_hour=10)
    dedup.settle(3 * HOUR, keep_ms=48 * HOUR)
    late = [uuid4().int for _ in range(1_100)]
    assert all(dedup.first_time(event_id, 7) for event_id in late)
    before = dedup.nbytes()
    dedup.settle(3 * HOUR, keep_ms=48 * HOUR)
    assert dedup.nbytes() < before / 3  # 1,100 Python ints and their set became 16 bytes each
    assert (len(dedup), dedup.frozen_ids) == (1_110, 1_110)
    assert not any(dedup.first_time(event_id, 7) for event_id in late)


def _by_hour(snapshot: dict[str, str]) -> dict[str, set[str]]:
    return {key: {ids[i : i + 32] for i in range(0, len(ids), 32)} for key, ids in snapshot.items()}


def test_frozen_and_hot_hours_survive_a_snapshot_in_the_same_format() -> None:
    """A frozen hour is written as the hex of its array: the same per-hour string of 32-hex-digit ids, which
    the restore reads frozen or hot by where the watermark is (or hot, not knowing it)."""
    dedup = Deduplicator()
    seen = _spread(dedup, hours=5, per_hour=30)
    dedup.settle(5 * HOUR, keep_ms=48 * HOUR)
    late = uuid4().int
    dedup.first_time(late, 0)
    snapshot = dedup.snapshot()
    by_hour = _by_hour(snapshot)
    assert sorted(by_hour, key=int) == [str(h * HOUR) for h in range(5)]
    assert by_hour["0"] == {format(i, "032x") for i, ts in seen if ts < HOUR} | {format(late, "032x")}
    for freeze_before, frozen in ((None, 0), (2 * HOUR, 61), (5 * HOUR, 151)):
        restored = Deduplicator.restore(snapshot, freeze_before)
        assert (len(restored), restored.frozen_ids) == (151, frozen)
        assert _by_hour(restored.snapshot()) == by_hour
        assert not any(restored.first_time(event_id, ts_ms) for event_id, ts_ms in [*seen, (late, 0)])
        assert restored.first_time(uuid4().int, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("event"), st.integers(0, 40), st.integers(0, 12 * HOUR)),
            st.tuples(st.just("settle"), st.integers(0, 16 * HOUR), st.integers(1, 6 * HOUR)),
            st.tuples(st.just("restore"), st.integers(-HOUR, 16 * HOUR), st.just(0)),
        ),
        max_size=120,
    )
)
def test_freezing_changes_no_answer(steps: list[tuple[str, int, int]]) -> None:
    """Against hourly sets that are never frozen: the same answer to every event, whatever is frozen, merged,
    forgotten or restored in between. Ids are few and share their high bits, so they repeat and collide; late
    ids are merged from the second one on, so merges happen too."""
    dedup, model = Deduplicator(), Deduplicator()
    base = UUID("00000000-0000-4000-8000-000000000000").int
    with patch.object(dedup_module, "_MERGE_LATE_AT", 2):
        for step, a, b in steps:
            if step == "event":
                event_id = base + (a << 64 if a % 3 == 0 else a * 0x9E3779B97F4A7C15 % 2**62)
                assert dedup.first_time(event_id, b) == model.first_time(event_id, b)
            elif step == "settle":
                dedup.settle(a, keep_ms=b)
                model.forget_before(a - b)
            else:
                dedup = Deduplicator.restore(dedup.snapshot(), a)
            assert len(dedup) == len(model)
