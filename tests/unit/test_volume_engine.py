"""Offered / answered / abandoned per source and interval, checked against counts made by hand."""

from __future__ import annotations

import json
import random
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from streams.engine.config import EngineConfig
from streams.engine.intervals import interval_start
from streams.engine.partition import ContactPartition
from streams.engine.volume import VolumeCounter
from streams.engine.volume import VolumeRow
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactOffered
from streams.events import new_event_id

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _offer(n: int, at: timedelta, source: str = "in-house") -> ContactOffered:
    return ContactOffered(
        event_id=new_event_id(n),
        ts=T0 + at,
        contact_id=f"c{n}",
        initial_contact_id=f"c{n}",
        source=source,
        call_type="sales",
    )


def _answer(n: int, at: timedelta, wait_s: int, source: str = "in-house") -> ContactAnswered:
    return ContactAnswered(
        event_id=new_event_id(1000 + n),
        ts=T0 + at,
        contact_id=f"c{n}",
        initial_contact_id=f"c{n}",
        source=source,
        call_type="sales",
        agent_id="a1",
        wait_ms=wait_s * 1000,
    )


def _abandon(n: int, at: timedelta, wait_s: int, source: str = "in-house") -> ContactAbandoned:
    return ContactAbandoned(
        event_id=new_event_id(2000 + n),
        ts=T0 + at,
        contact_id=f"c{n}",
        initial_contact_id=f"c{n}",
        source=source,
        call_type="sales",
        wait_ms=wait_s * 1000,
    )


def test_interval_start_floors_to_the_utc_grid() -> None:
    assert interval_start(datetime(2026, 1, 5, 9, 29, 59, 999000, tzinfo=UTC), 15) == datetime(
        2026, 1, 5, 9, 15, tzinfo=UTC
    )
    assert interval_start(datetime(2026, 1, 5, 9, 30, tzinfo=UTC), 15) == datetime(
        2026, 1, 5, 9, 30, tzinfo=UTC
    )
    assert interval_start(datetime(2026, 1, 5, 9, 59, tzinfo=UTC), 60) == datetime(
        2026, 1, 5, 9, 0, tzinfo=UTC
    )


def test_an_answer_counts_in_the_interval_the_contact_arrived() -> None:
    # Arrives 09:14:50, answered 09:15:20 after 30 s: both count in the 09:00 interval, nothing in 09:15.
    counter = VolumeCounter(partition=0)
    counter.apply(
        [
            (0, _offer(1, timedelta(minutes=14, seconds=50))),
            (1, _answer(1, timedelta(minutes=15, seconds=20), 30)),
        ]
    )
    assert counter.drain_rows() == [VolumeRow("default", T0, "in-house", 0, 1, 1, 0, 1)]


def test_hand_counted_mix_of_two_sources() -> None:
    events = [
        _offer(1, timedelta(minutes=1)),
        _offer(2, timedelta(minutes=2), "vendor-a"),
        _offer(3, timedelta(minutes=3)),
        _answer(1, timedelta(minutes=1, seconds=20), 20),
        _abandon(2, timedelta(minutes=3), 60, "vendor-a"),
        _answer(3, timedelta(minutes=4), 60),
        _offer(4, timedelta(minutes=16)),
        _abandon(4, timedelta(minutes=16, seconds=5), 5),
    ]
    counter = VolumeCounter(partition=3)
    counter.apply(enumerate(events))
    assert counter.drain_rows() == [
        VolumeRow("default", T0, "in-house", 3, 2, 2, 0, 7),
        VolumeRow("default", T0, "vendor-a", 3, 1, 0, 1, 7),
        VolumeRow("default", T0 + timedelta(minutes=15), "in-house", 3, 1, 0, 1, 7),
    ]


def test_drain_returns_only_changed_rows_with_cumulative_counts() -> None:
    counter = VolumeCounter(partition=0)
    counter.apply([(0, _offer(1, timedelta(minutes=1))), (1, _offer(2, timedelta(minutes=20)))])
    assert len(counter.drain_rows()) == 2
    counter.apply([(2, _offer(3, timedelta(minutes=2)))])
    assert counter.drain_rows() == [VolumeRow("default", T0, "in-house", 0, 2, 0, 0, 2)]
    assert counter.drain_rows() == []


def test_any_order_of_the_same_events_gives_the_same_counts() -> None:
    events = []
    for n in range(200):
        arrive = timedelta(seconds=n * 17)
        events.append(_offer(n, arrive, "vendor-a" if n % 3 else "in-house"))
        wait = n % 90
        if n % 4:
            events.append(
                _answer(n, arrive + timedelta(seconds=wait), wait, "vendor-a" if n % 3 else "in-house")
            )
        else:
            events.append(
                _abandon(n, arrive + timedelta(seconds=wait), wait, "vendor-a" if n % 3 else "in-house")
            )
    reference = VolumeCounter(partition=0)
    reference.apply(enumerate(events))
    expected = {row[:7] for row in reference.drain_rows()}
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        counter = VolumeCounter(partition=0)
        counter.apply(enumerate(shuffled))
        assert {row[:7] for row in counter.drain_rows()} == expected


def test_snapshot_restore_resumes_the_same_counts() -> None:
    counter = VolumeCounter(partition=2)
    counter.apply([(5, _offer(1, timedelta(minutes=1))), (6, _answer(1, timedelta(minutes=2), 60))])
    counter.drain_rows()
    restored = VolumeCounter.restore(counter.snapshot())
    restored.apply([(7, _offer(2, timedelta(minutes=3)))])
    assert restored.drain_rows() == [VolumeRow("default", T0, "in-house", 2, 2, 1, 0, 7)]


def test_the_partition_counts_volume_behind_its_gate_and_keeps_it_in_its_checkpoint() -> None:
    # Counted at the edge, a re-sent event counted twice, an event older than the correction horizon
    # counted in its ancient interval, and a restarted worker started the counts from zero.
    engine = ContactPartition(0, EngineConfig())
    first = [_offer(1, timedelta(0)), _answer(1, timedelta(seconds=20), 20)]
    engine.process(enumerate(first))
    stale = _offer(3, timedelta(days=-3))  # 3 days before the partition's newest event: refused
    out = engine.process([(2, first[0]), (3, stale), (4, _offer(2, timedelta(minutes=1)))])
    assert (out.duplicates, [r.offset for r in out.rejected]) == (1, [3])
    assert engine.drain()["contact_volume_interval"] == [VolumeRow("default", T0, "in-house", 0, 2, 1, 0, 4)]
    restored = ContactPartition.restore(json.loads(json.dumps(engine.snapshot())), EngineConfig())
    restored.process([(4, _offer(2, timedelta(minutes=1))), (5, _abandon(2, timedelta(minutes=2), 60))])
    # Offset 4 is re-read after the restart and skipped; the abandon adds to the restored counts.
    assert restored.drain()["contact_volume_interval"] == [
        VolumeRow("default", T0, "in-house", 0, 2, 1, 1, 5)
    ]


def test_tenants_sharing_a_partition_and_a_source_keep_their_own_rows() -> None:
    counter = VolumeCounter(partition=1)
    other = _offer(2, timedelta(minutes=2)).model_copy(update={"tenant": "bank-b"})
    counter.apply([(0, _offer(1, timedelta(minutes=1))), (1, other), (2, _offer(3, timedelta(minutes=3)))])
    assert counter.drain_rows() == [
        VolumeRow("bank-b", T0, "in-house", 1, 1, 0, 0, 2),
        VolumeRow("default", T0, "in-house", 1, 2, 0, 0, 2),
    ]


def test_counters_no_event_can_reach_any_more_are_dropped_and_the_rest_kept() -> None:
    """State stays O(retention), not O(days run): an interval is forgotten once no admissible event (within the
    correction horizon, dated back by at most the longest wait the contract allows) can fall into it."""
    config = EngineConfig(allowed_lateness_s=0, retention_hours=2)
    engine = ContactPartition(0, config)
    hours = 24 * 12
    for n in range(hours):  # an offer on the hour, a batch and a drain each, as the worker goes
        engine.process([(n, _offer(n, timedelta(hours=n)))])
        engine.drain()
    kept = sorted(datetime.fromisoformat(start) for _, start, *_ in engine.snapshot()["volume"]["counts"])
    newest = T0 + timedelta(hours=hours - 1)
    # The lowest arrival still admissible: the newest event time - 2 h retention - 7 days of wait.
    reachable = newest - timedelta(hours=2) - timedelta(days=7)
    assert kept == [reachable + timedelta(hours=h) for h in range(7 * 24 + 2 + 1)]
    # An answer that waited the longest the contract allows still adds to its (kept) arrival interval.
    wait_s = 7 * 86_400
    answer = _answer(10_000, newest - T0, wait_s)
    engine.process([(hours, answer)])
    rows = engine.drain()["contact_volume_interval"]
    arrived = interval_start(newest - timedelta(seconds=wait_s), 15)
    assert [(row.interval_start, row.offered, row.answered) for row in rows] == [(arrived, 1, 1)]
