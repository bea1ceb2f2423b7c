"""A tiny seeded simulation of contacts at two sources (in-house and one vendor), with its own ground truth.

The walking skeleton's producer; it counts outcomes from its own draws and never calls the engine.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEvent
from streams.events import ContactOffered
from streams.events import new_event_id


@dataclass(frozen=True)
class TinyScenario:
    start: datetime = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    hours: float = 8.0
    calls_per_hour: float = 240.0
    vendor_share: float = 0.3
    in_house: str = "in-house"
    vendor: str = "vendor-a"
    mean_patience_s: float = 180.0
    mean_wait_s: dict[str, float] = field(default_factory=lambda: {"in-house": 25.0, "vendor-a": 45.0})
    call_types: tuple[str, ...] = ("billing", "support", "sales")
    interval_minutes: int = 15
    seed: int = 7


@dataclass
class GroundTruth:
    """Counts per (interval_start, source, outcome) taken from the simulation's own draws."""

    counts: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)

    def table(self) -> dict[tuple[datetime, str], tuple[int, int, int]]:
        keys = {(start, source) for start, source, _ in self.counts}
        return {
            key: (
                self.counts[(*key, "offered")],
                self.counts[(*key, "answered")],
                self.counts[(*key, "abandoned")],
            )
            for key in sorted(keys)
        }


def _floor(ts: datetime, minutes: int) -> datetime:
    # Deliberately not the engine's function: the ground truth must not share code with what it checks.
    return ts.replace(minute=ts.minute - ts.minute % minutes, second=0, microsecond=0)


def simulate(scenario: TinyScenario) -> tuple[list[ContactEvent], GroundTruth]:
    """Poisson arrivals, exponential waits and patience; events sorted by time as an ACD would emit them."""
    rng = random.Random(scenario.seed)
    truth = GroundTruth()
    events: list[ContactEvent] = []
    end = scenario.hours * 3600.0
    t = 0.0
    n = 0
    while True:
        t += rng.expovariate(scenario.calls_per_hour / 3600.0)
        if t >= end:
            break
        n += 1
        arrived = scenario.start + timedelta(milliseconds=round(t * 1000))
        source = scenario.vendor if rng.random() < scenario.vendor_share else scenario.in_house
        call_type = rng.choice(scenario.call_types)
        contact = f"c{scenario.seed}-{n:07d}"
        wait_ms = round(rng.expovariate(1.0 / scenario.mean_wait_s[source]) * 1000)
        patience_ms = round(rng.expovariate(1.0 / scenario.mean_patience_s) * 1000)
        bucket = _floor(arrived, scenario.interval_minutes)
        events.append(
            ContactOffered(
                event_id=new_event_id(rng.getrandbits(128)),
                ts=arrived,
                contact_id=contact,
                initial_contact_id=contact,
                source=source,
                call_type=call_type,
            )
        )
        truth.counts[(bucket, source, "offered")] += 1
        if wait_ms <= patience_ms:
            events.append(
                ContactAnswered(
                    event_id=new_event_id(rng.getrandbits(128)),
                    ts=arrived + timedelta(milliseconds=wait_ms),
                    agent_id=f"{source}-agent-{rng.randrange(20):02d}",
                    wait_ms=wait_ms,
                    contact_id=contact,
                    initial_contact_id=contact,
                    source=source,
                    call_type=call_type,
                )
            )
            truth.counts[(bucket, source, "answered")] += 1
        else:
            events.append(
                ContactAbandoned(
                    event_id=new_event_id(rng.getrandbits(128)),
                    ts=arrived + timedelta(milliseconds=patience_ms),
                    wait_ms=patience_ms,
                    contact_id=contact,
                    initial_contact_id=contact,
                    source=source,
                    call_type=call_type,
                )
            )
            truth.counts[(bucket, source, "abandoned")] += 1
    events.sort(key=lambda event: event.ts)
    return events, truth
