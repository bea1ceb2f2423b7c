"""The alert stage: each rule fires once and resolves once, decided only when every partition that carried a
source has passed the interval, on counters summed as the dashboards sum them; stale and late partials do not
move a decision; a restart in the middle gives the same transitions as none. Expected values by hand."""

from __future__ import annotations

import random
import uuid
import zlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import orjson
import pytest

from streams.edge.records import decode_alert_inputs
from streams.edge.records import encode_alert_inputs
from streams.engine.alerts import AlertEngine
from streams.engine.alerts import AlertInput
from streams.engine.alerts import AlertRow
from streams.engine.alerts import OverflowPart
from streams.engine.alerts import QualityPart
from streams.engine.config import AlertRules
from streams.engine.config import ChronicRule
from streams.engine.config import EngineConfig
from streams.engine.config import RateRule
from streams.engine.config import ServiceLevelRule
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.partition import AlertPartition
from streams.engine.timebase import to_ms

Q = 15 * 60_000
T0 = to_ms(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
DAY = 86_400_000


def config(**rules: object) -> EngineConfig:
    terms = SourceTerms(sla_threshold_s=20, sla_target=0.8, chronic_after=3, chronic_after_days=2)
    return EngineConfig(
        tenants={
            "t": TenantConfig(
                sources={"in-house": terms, "vendor-a": terms},
                alerts=AlertRules.model_validate(rules),
            )
        }
    )


def q(
    source: str, interval: int, version: int, offered: int, in_sla: int | None, abandoned: int = 0
) -> QualityPart:
    return QualityPart(source, "billing", T0 + interval * Q, "events", version, offered, abandoned, in_sla)


def feed(engine: AlertEngine, *inputs: AlertInput) -> list[AlertRow]:
    engine.apply((offset, item) for offset, item in enumerate(inputs, start=engine.version + 1))
    return engine.drain_rows()


def mark(upstream: str, interval: int) -> AlertInput:
    """The upstream partition's watermark at the end of interval `interval` (so it is final there)."""
    return AlertInput(upstream, "t", T0 + (interval + 1) * Q, [], [])


def rows(upstream: str, *parts: QualityPart, watermark_interval: int = -1) -> AlertInput:
    return AlertInput(upstream, "t", T0 + (watermark_interval + 1) * Q, list(parts), [])


def brief(out: list[AlertRow]) -> list[tuple[str, str, str, int, float | None, int]]:
    return [
        (r.rule, r.source, r.transition, (to_ms(r.interval_start) - T0) // Q, r.value, r.streak) for r in out
    ]


def test_service_level_fires_on_the_nth_interval_under_target_and_resolves_once() -> None:
    engine = AlertEngine(0, config(service_level=ServiceLevelRule(intervals=2)))
    # Interval 0: 7 of 10 and 8 of 10 within 20 s on two partitions: 15 / 20 = 75 % < 80 %, streak 1.
    assert (
        feed(
            engine,
            rows("contact:0", q("in-house", 0, 5, 10, 7)),
            rows("contact:1", q("in-house", 0, 6, 10, 8)),
        )
        == []
    )
    # Interval 1: 6 / 10 = 60 %, streak 2; partition 0 has passed it, partition 1 not yet: nothing decided.
    assert feed(engine, rows("contact:0", q("in-house", 1, 9, 10, 6), watermark_interval=1)) == []
    assert engine.counts.intervals_decided == 0
    # Partition 1 passes interval 1 as well: both intervals decided, the alert fires on interval 1, once.
    out = feed(engine, mark("contact:1", 1))
    assert brief(out) == [("service_level", "in-house", "fired", 1, 0.6, 2)]
    assert out[0].alert_id == "service_level/in-house/2026-12-02T08:15:00+00:00"
    assert out[0].idempotency_key == "t/service_level/in-house/2026-12-02T08:15:00+00:00/fired"
    # Interval 2 has no traffic: neither breaks nor extends. Interval 3: 5 / 5 meets the target: resolved.
    assert feed(
        engine, rows("contact:0", q("in-house", 3, 12, 5, 5), watermark_interval=3), mark("contact:1", 3)
    )[0][:3] == ("t", out[0].alert_id, "resolved")
    assert engine.open_alerts() == []
    assert (engine.counts.fired, engine.counts.resolved) == (1, 1)


def test_a_stale_partial_is_ignored_and_a_late_one_counted_without_moving_the_decision() -> None:
    engine = AlertEngine(0, config(service_level=ServiceLevelRule(intervals=1)))
    # Version 10 says 8 of 10 (met); an older version 7 re-sent after a restart says 1 of 10: ignored.
    assert (
        feed(
            engine,
            rows("contact:0", q("in-house", 0, 10, 10, 8)),
            rows("contact:0", q("in-house", 0, 7, 10, 1)),
        )
        == []
    )
    assert engine.counts.stale_rows == 1
    assert feed(engine, mark("contact:0", 0)) == []  # 80 % meets 80 %
    # A correction of the decided interval (an event later than the allowed lateness) is not re-judged.
    assert feed(engine, rows("contact:0", q("in-house", 0, 20, 11, 8), watermark_interval=0)) == []
    assert engine.counts.late_rows == 1


def test_abandonment_needs_enough_calls_and_overflow_counts_only_waits_that_overflowed() -> None:
    rules = {"abandonment": RateRule(above=0.1, min_calls=20), "overflow": RateRule(above=0.25, min_calls=10)}
    engine = AlertEngine(0, config(**rules))
    # 5 of 10 abandoned: 50 %, but under 20 calls: not judged. 3 of 20: 15 % > 10 %: fired.
    out = feed(
        engine,
        rows("contact:0", q("in-house", 0, 1, 10, 9, abandoned=5), q("in-house", 1, 2, 20, 15, abandoned=3),
             watermark_interval=1),
    )  # fmt: skip
    assert brief(out) == [("abandonment", "in-house", "fired", 1, 0.15, 1)]
    # Overflow: 3 of 10 arrivals waited the threshold and left (30 % > 25 %); 2 of 10 (20 %) resolves.
    flows = [
        OverflowPart("in-house", "billing", T0 + 2 * Q, 3, 10, 3),
        OverflowPart("in-house", "billing", T0 + 3 * Q, 4, 10, 2),
    ]
    out = feed(engine, AlertInput("contact:0", "t", T0 + 4 * Q, [], flows))
    assert brief(out) == [
        ("overflow", "in-house", "fired", 2, 0.3, 1),
        ("overflow", "in-house", "resolved", 3, 0.2, 1),
    ]
    # Not observable (network-delivered): no judgement at all, never a rate of 0.
    out = feed(
        engine,
        AlertInput(
            "contact:0", "t", T0 + 5 * Q, [], [OverflowPart("in-house", "billing", T0 + 4 * Q, 5, 10, None)]
        ),
    )
    assert out == []


def test_chronic_streaks_of_intervals_and_of_days() -> None:
    engine = AlertEngine(0, config(chronic=ChronicRule(days=True)))
    # chronic_after = 3 intervals: fired on the third breached interval in a row (5 of 10 each).
    parts = [q("vendor-a", i, i, 10, 5) for i in range(3)]
    assert brief(feed(engine, rows("report:0", *parts, watermark_interval=2))) == [
        ("chronic_intervals", "vendor-a", "fired", 2, 0.5, 3)
    ]
    # The next day's first interval (7 of 10) passes midnight: day 1 (15 / 30 = 50 %) is decided, breached.
    day2 = QualityPart("vendor-a", "billing", T0 + DAY, "events", 40, 10, 0, 7)
    assert feed(engine, AlertInput("report:0", "t", T0 + DAY + Q, [day2], [])) == []
    assert engine.counts.days_decided == 1
    # Day 3's interval (9 of 10) meets the SLA: the interval streak resolves; closing day 2 (70 %, the second
    # breached day: chronic_after_days = 2) fires the daily alert, and closing day 3 (90 %) resolves it.
    day3 = QualityPart("vendor-a", "billing", T0 + 2 * DAY, "events", 41, 10, 0, 9)
    out = feed(engine, AlertInput("report:0", "t", T0 + 3 * DAY, [day3], []))
    assert [(r.rule, r.transition, r.interval_start.isoformat(), r.value, r.streak) for r in out] == [
        ("chronic_intervals", "resolved", "2026-12-04T08:00:00+00:00", 0.9, 4),
        ("chronic_days", "fired", "2026-12-03T00:00:00+00:00", 0.7, 2),
        ("chronic_days", "resolved", "2026-12-04T00:00:00+00:00", 0.9, 2),
    ]


def test_a_restart_anywhere_gives_the_transitions_of_no_restart() -> None:
    """Random traffic over 3 partitions and 40 intervals, each partition's inputs in order and interleaved at
    random, some re-sent with older versions; restored from a JSON snapshot at every point, the transitions
    equal the uninterrupted run's."""
    rng = random.Random(7)
    cfg = config(service_level=ServiceLevelRule(intervals=2), abandonment=RateRule(above=0.1, min_calls=5),
                 chronic=ChronicRule(days=False))  # fmt: skip
    streams: list[list[AlertInput]] = []
    for p in range(3):
        inputs = []
        for i in range(40):
            offered = rng.randint(0, 12)
            inputs.append(rows(f"contact:{p}", q("in-house", i, i * 10 + p, offered, rng.randint(0, offered),
                                                 rng.randint(0, offered // 3)), watermark_interval=i - 1))  # fmt: skip
            if rng.random() < 0.2:  # an older version re-sent
                inputs.append(
                    rows(
                        f"contact:{p}", q("in-house", i, i * 10 + p - 5, offered, 0), watermark_interval=i - 1
                    )
                )
        inputs.append(mark(f"contact:{p}", 40))
        streams.append(inputs)
    merged: list[AlertInput] = []
    cursors = [0, 0, 0]
    while any(c < len(s) for c, s in zip(cursors, streams, strict=True)):
        p = rng.choice([i for i in range(3) if cursors[i] < len(streams[i])])
        merged.append(streams[p][cursors[p]])
        cursors[p] += 1
    reference = AlertPartition(0, cfg)
    reference.process(list(enumerate(merged)))
    expected = reference.drain()["alerts"]
    assert len(expected) >= 4
    for cut in range(0, len(merged), 7):
        first = AlertPartition(0, cfg)
        first.process(list(enumerate(merged))[:cut])
        before = first.drain()["alerts"]
        snapshot = orjson.loads(orjson.dumps(first.snapshot()))
        restored = AlertPartition.restore(snapshot, cfg)
        # The restart re-reads from an older offset: those inputs are skipped by offset.
        restored.process(list(enumerate(merged))[max(0, cut - 5) :])
        assert before + restored.drain()["alerts"] == expected


def test_alert_inputs_cross_the_wire_unchanged_and_bad_ones_are_refused() -> None:
    item = AlertInput(
        "contact:2", "t", T0, [q("in-house", 0, 3, 10, None)], [OverflowPart("in-house", "x", T0, 4, 9, None)]
    )
    encoded = encode_alert_inputs([item], 4)
    assert list(encoded) == [zlib.crc32(b"t") % 4]
    assert decode_alert_inputs(next(iter(encoded.values()))) == [item]
    for bad in (b"{}", b"[]", b'[["contact:0", "t", 1, [["s", "c", "x", "events", 1, 1, 1, 1]], []]]', b"not json",
                b'[["contact:0", "t", 1, [], [["s", "c", 1, 1, true, 1]]]]'):  # fmt: skip
        with pytest.raises(ValueError, match="not an alert-input record"):
            decode_alert_inputs(bad)


def test_the_queue_is_read_at_a_moment_as_it_was_then() -> None:
    """Legs wait from queued until answered, abandoned, overflowed or redirected with an accepted hand-off; a
    failed hand-off leaves the caller waiting. `at` a past moment counts legs that left after it."""
    from streams.engine.queue import QueueSample
    from streams.engine.queue import QueueTracker
    from streams.events import ContactAnswered
    from streams.events import ContactQueued
    from streams.events import ContactRedirected

    def ts(seconds: int) -> datetime:
        return datetime(2026, 12, 2, 8, 0, tzinfo=UTC) + timedelta(seconds=seconds)

    base = {"tenant": "t", "source": "in-house", "call_type": "billing"}
    ids = iter(range(1, 100))

    def meta() -> dict[str, object]:
        return {**base, "event_id": uuid.UUID(int=next(ids))}

    events = [
        ContactQueued(
            ts=ts(0),
            contact_id="a",
            initial_contact_id="a",
            queue="q",
            **meta(),
        ),
        ContactQueued(
            ts=ts(10),
            contact_id="b",
            initial_contact_id="b",
            queue="q",
            **meta(),
        ),
        ContactRedirected(
            ts=ts(20), contact_id="b", initial_contact_id="b", to_source="v", handoff="failed", **meta()
        ),
        ContactAnswered(
            ts=ts(40), contact_id="a", initial_contact_id="a", agent_id="x", wait_ms=40_000, **meta()
        ),
        ContactRedirected(
            ts=ts(50), contact_id="b", initial_contact_id="b", to_source="v", handoff="accepted", **meta()
        ),
    ]
    tracker = QueueTracker(keep_ms=3_600_000, remember_ms=600_000)
    tracker.apply(enumerate(events))  # type: ignore[arg-type]
    assert tracker.now() == {}
    at_30 = to_ms(ts(30))
    assert tracker.at("t", at_30) == [QueueSample("t", "in-house", at_30, 2, to_ms(ts(0)))]
    assert tracker.at("t", to_ms(ts(45))) == [QueueSample("t", "in-house", to_ms(ts(45)), 1, to_ms(ts(10)))]
    assert tracker.at("t", to_ms(ts(50))) == []
    tracker.settle(to_ms(ts(50)) + 600_001)
    assert tracker.at("t", at_30) == []  # forgotten once no admissible input can ask


def test_severe_adherence_sums_the_agent_partitions_and_resolves_when_none_are_left() -> None:
    """Agents are spread over both agent partitions: an interval end is judged once both have passed it, on
    the sum of their boards' severe agents; an interval end neither reports is one with none."""
    from streams.engine.alerts import SeverePart
    from streams.engine.config import SevereAdherenceRule

    engine = AlertEngine(0, config(severe_adherence=SevereAdherenceRule(agents_above=2)))

    def agents(partition: int, interval: int, *counts: tuple[str, int]) -> AlertInput:
        parts = [SeverePart(source, T0 + interval * Q, n) for source, n in counts]
        return AlertInput(f"agent:{partition}/2", "t", T0 + (interval + 1) * Q, [], [], [], parts)

    # Interval 0 ends with 2 severe on partition 0 and 1 on partition 1: 3 > 2, fired once both have passed it.
    assert feed(engine, agents(0, 0, ("in-house", 2))) == []
    out = feed(engine, agents(1, 0, ("in-house", 1), ("vendor-a", 1)))
    assert brief(out) == [("severe_adherence", "in-house", "fired", 0, 3, 1)]
    # Interval 1: partition 0 still reports 2, partition 1 nothing: 2, within the limit, resolved.
    out = feed(engine, agents(0, 1, ("in-house", 2)), agents(1, 1))
    assert brief(out) == [("severe_adherence", "in-house", "resolved", 1, 2, 1)]
    # Interval 2 and 3: partition 0 jumps ahead; nothing is judged until partition 1 passes them too.
    assert feed(engine, agents(0, 3, ("in-house", 5))) == []
    out = feed(engine, agents(1, 3, ("vendor-a", 3)))
    assert brief(out) == [
        ("severe_adherence", "in-house", "fired", 3, 5, 1),
        ("severe_adherence", "vendor-a", "fired", 3, 3, 1),
    ]
