"""Offered / answered / abandoned per source and interval, checked against counts made by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from streams.engine.intervals import interval_start
from streams.engine.volume import VolumeCounter, VolumeRow
from streams.events import ContactAbandoned, ContactAnswered, ContactOffered, new_event_id

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
    assert counter.drain_rows() == [VolumeRow(T0, "in-house", 0, 1, 1, 0, 1)]


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
        VolumeRow(T0, "in-house", 3, 2, 2, 0, 7),
        VolumeRow(T0, "vendor-a", 3, 1, 0, 1, 7),
        VolumeRow(T0 + timedelta(minutes=15), "in-house", 3, 1, 0, 1, 7),
    ]


def test_drain_returns_only_changed_rows_with_cumulative_counts() -> None:
    counter = VolumeCounter(partition=0)
    counter.apply([(0, _offer(1, timedelta(minutes=1))), (1, _offer(2, timedelta(minutes=20)))])
    assert len(counter.drain_rows()) == 2
    counter.apply([(2, _offer(3, timedelta(minutes=2)))])
    assert counter.drain_rows() == [VolumeRow(T0, "in-house", 0, 2, 0, 0, 2)]
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
    expected = {row[:6] for row in reference.drain_rows()}
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        counter = VolumeCounter(partition=0)
        counter.apply(enumerate(shuffled))
        assert {row[:6] for row in counter.drain_rows()} == expected


def test_snapshot_restore_resumes_the_same_counts() -> None:
    counter = VolumeCounter(partition=2)
    counter.apply([(5, _offer(1, timedelta(minutes=1))), (6, _answer(1, timedelta(minutes=2), 60))])
    counter.drain_rows()
    restored = VolumeCounter.restore(counter.snapshot())
    restored.apply([(7, _offer(2, timedelta(minutes=3)))])
    assert restored.drain_rows() == [VolumeRow(T0, "in-house", 2, 2, 1, 0, 7)]
