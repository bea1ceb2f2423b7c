"""The walking skeleton's simulator: reproducible by seed, and its ground truth agrees with its own events."""

from __future__ import annotations

from collections import Counter

from producers.tiny_sim import TinyScenario
from producers.tiny_sim import simulate


def test_same_seed_same_events() -> None:
    a, _ = simulate(TinyScenario(hours=1, seed=5))
    b, _ = simulate(TinyScenario(hours=1, seed=5))
    c, _ = simulate(TinyScenario(hours=1, seed=6))
    assert a == b
    assert a != c


def test_every_contact_has_one_offer_and_one_outcome() -> None:
    events, truth = simulate(TinyScenario(hours=2, seed=9))
    per_contact = Counter(event.contact_id for event in events)
    assert set(per_contact.values()) == {2}
    kinds = Counter(event.type for event in events)
    totals = [sum(counts[i] for counts in truth.table().values()) for i in range(3)]
    assert totals == [kinds["contact.offered"], kinds["contact.answered"], kinds["contact.abandoned"]]


def test_arrival_rate_is_close_to_the_scenario() -> None:
    # Poisson count over 8 h at 240/h: mean 1920, sd ~44; 4 sd is a loose, still failing-able bound.
    events, _ = simulate(TinyScenario(hours=8, calls_per_hour=240, seed=1))
    offered = sum(1 for event in events if event.type == "contact.offered")
    assert abs(offered - 1920) < 4 * 44


def test_events_are_in_time_order() -> None:
    events, _ = simulate(TinyScenario(hours=1, seed=2))
    assert [e.ts for e in events] == sorted(e.ts for e in events)
