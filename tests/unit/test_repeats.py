"""Repeat contacts (FCR proxy), hand-computed: charged to the source that handled the first call, in any order,
once per call, with the last window of the data flagged censored."""

from __future__ import annotations

import itertools

from streams.engine.config import EngineConfig
from streams.engine.overflow import CallerContact
from streams.engine.partition import CallerPartition
from streams.engine.timebase import from_ms

H = 3_600_000
DAY0 = 1_767_600_000_000  # 2026-01-05 08:00 UTC, on the 15-minute grid


def call(n: int, caller: str, at_h: float, handled_by: str | None, tenant: str = "t") -> CallerContact:
    return CallerContact(tenant, caller, f"c{n}", DAY0 + int(at_h * H), "billing", handled_by)


CALLS = [
    call(1, "alice", 0, "vendor-a"),  # alice calls back after 3 h: vendor-a's call 1 is repeated
    call(2, "alice", 3, "in-house"),  # ... and after 30 h: outside the 24 h window of call 2
    call(3, "alice", 33, "in-house"),
    call(4, "bob", 0, "in-house"),  # bob is served at 00:00 and 00:30 and abandons at 01:00: both handled
    call(5, "bob", 1, None),  # calls are repeated (an abandoned call back still means "not resolved"),
    call(6, "bob", 0.5, "in-house"),  # and the abandon itself is no trigger (it was not handled)
]


def totals(partition: CallerPartition) -> dict[tuple[str, int], tuple[int, int, int]]:
    rows = {}
    for row in partition.drain()["repeat_interval"]:
        rows[(row.source, int(row.interval_start.timestamp() * 1000))] = (
            row.handled,
            row.repeated,
            row.censored,
        )
    return rows


def run(calls: list[CallerContact]) -> dict[tuple[str, int], tuple[int, int, int]]:
    partition = CallerPartition(0, EngineConfig(allowed_lateness_s=0))
    partition.process(enumerate(calls))
    return totals(partition)


def test_hand_counted_repeats_charged_to_the_first_handler() -> None:
    got = run(CALLS)
    assert got[("vendor-a", DAY0)][:2] == (1, 1)
    assert got[("in-house", DAY0 + 3 * H)][:2] == (1, 0)  # next call 30 h later: outside the window
    assert got[("in-house", DAY0 + 33 * H)][:2] == (1, 0)
    assert got[("in-house", DAY0)][:2] == (1, 1)
    assert got[("in-house", DAY0 + H // 2)][:2] == (1, 1)
    assert sum(value[0] for value in got.values()) == 5  # call 5 was not handled: no trigger


def test_every_order_gives_the_same_counts() -> None:
    reference = {key: value[:2] for key, value in run(CALLS).items()}
    for order in itertools.islice(itertools.permutations(CALLS), 0, 720, 37):
        assert {key: value[:2] for key, value in run(list(order)).items()} == reference


def test_a_call_published_twice_counts_once() -> None:
    assert run(CALLS + CALLS[:3]) == run(CALLS)


def test_recent_intervals_are_censored_until_their_window_has_passed() -> None:
    partition = CallerPartition(0, EngineConfig(allowed_lateness_s=0))
    partition.process(enumerate(CALLS))
    first = totals(partition)
    # The latest call (33 h) puts the watermark at 33 h: the 00:00 window (ends 24 h 15 min) is complete.
    assert first[("vendor-a", DAY0)][2] == 0
    assert first[("in-house", DAY0 + 33 * H)][2] == 1
    partition.advance_idle(30 * H)
    later = totals(partition)
    assert later[("in-house", DAY0 + 33 * H)] == (1, 0, 0)
    assert from_ms(DAY0).hour == 8


def test_outcomes_travel_a_message_per_partition_and_count_as_if_one_by_one() -> None:
    from streams.edge.records import caller_partition
    from streams.edge.records import decode_caller_contacts
    from streams.edge.records import encode_caller_contacts

    messages = encode_caller_contacts(CALLS, 4)
    assert sorted(c for payload in messages.values() for c in decode_caller_contacts(payload)) == sorted(
        CALLS
    )
    for partition, payload in messages.items():  # one caller's calls share a partition
        assert {caller_partition(c, 4) for c in decode_caller_contacts(payload)} == {partition}
    # All outcomes under one offset (one message): each is counted, and a re-read of it after a restore is not.
    partition = CallerPartition(0, EngineConfig(allowed_lateness_s=0))
    partition.process([(7, c) for c in CALLS])
    restored = CallerPartition.restore(partition.snapshot(), EngineConfig(allowed_lateness_s=0))
    assert restored.process([(7, c) for c in CALLS]).replayed == len(CALLS)
    assert totals(partition) == run(CALLS)


def test_calls_past_the_retention_are_forgotten_and_a_restored_engine_forgets_the_same() -> None:
    """Kept: calls within window + retention of the watermark; older ones go, with their de-duplication ids,
    whether the engine ran through or was restored from a snapshot midway."""
    config = EngineConfig(allowed_lateness_s=0, repeat_window_hours=24, retention_hours=48)
    calls = [call(n, f"caller{n % 7}", n * 2.5, "in-house") for n in range(60)]  # 0 h .. 147.5 h
    straight = CallerPartition(0, config)
    straight.process(enumerate(calls[:30]))
    restored = CallerPartition.restore(straight.snapshot(), config)
    for partition in (straight, restored):
        partition.process((n, c) for n, c in enumerate(calls) if n >= 30)
    horizon_h = 147.5 - 24 - 48
    kept = sorted(c.initial_contact_id for c in calls if c.arrived_ms > DAY0 + horizon_h * H)
    for partition in (straight, restored):
        state = partition.repeats.snapshot()
        assert sorted(i for _, _, entries in state["callers"] for _, i, _, _ in entries) == kept
        assert partition.repeats._seen == set(kept)
    assert sorted(straight.repeats.snapshot()["callers"]) == sorted(restored.repeats.snapshot()["callers"])
    assert sorted(straight.repeats.snapshot()["counters"]) == sorted(restored.repeats.snapshot()["counters"])
