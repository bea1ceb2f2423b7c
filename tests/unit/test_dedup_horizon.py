"""A day re-sent within the correction horizon is counted once (issue 15): ids used to be remembered for 6 h of
event time while events were accepted for 48 h, so the same day published again the next morning (a replay
re-run, a vendor re-sending its records) doubled offered, answered and handle times. Now ids are remembered
for as long as events are accepted; what is older is refused with its reason, and a checkpoint written when
ids were kept for less time refuses what it cannot check instead of counting it twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from functools import cache
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import KEY_LENGTH
from streams.engine.partition import ContactPartition
from streams.engine.quality import QualityRow
from streams.events import Event
from streams.events import encode_event
from streams.warehouse.sink import BatchSink
from tests.support.scenarios import mixed

BASE = mixed("resent", billing=300, sales=120, agents=14, teams=2, vendor_agents=6, vendor_teams=1)
TABLES = ("quality_interval", "overflow_interval", "overflow_target_interval", "contact_volume_interval")
DAY2 = datetime(2026, 1, 6, tzinfo=UTC)  # the scenario starts on 2026-01-05


@cache
def _two_days(setup: str) -> tuple[str, tuple[Event, ...]]:
    scenario = variant(scenario_from_dict({**BASE.model_dump(), "days": 2}), setup, "shared")  # type: ignore[arg-type]
    sink, _ = simulate_in_memory(scenario)
    sink.close()
    events = sorted(
        (e for e in sink.events() if e.type.startswith(("contact.", "vendor."))), key=lambda e: e.ts
    )
    return setup, tuple(events)


def _config(setup: str) -> EngineConfig:
    scenario = variant(BASE, setup, "shared")  # type: ignore[arg-type]
    return EngineConfig(tenants={scenario.name: TenantConfig(setup=setup, in_house=scenario.in_house.id)})


def _rows(setup: str, stream: list[Event]) -> tuple[dict[str, dict[tuple[Any, ...], Any]], int, int]:
    """The latest version of every row (what ReplacingMergeTree keeps), versions left out: offsets differ."""
    engine = ContactPartition(0, _config(setup))
    rows: dict[str, dict[tuple[Any, ...], Any]] = defaultdict(dict)
    duplicates = rejected = 0

    def drain() -> None:
        for table, table_rows in engine.drain().items():
            for row in table_rows:
                rows[table][row[: KEY_LENGTH[table]]] = row[:-1]  # every row ends with its version

    for start in range(0, len(stream), 500):
        out = engine.process(enumerate(stream[start : start + 500], start=start))
        duplicates += out.duplicates
        rejected += len(out.rejected)
        drain()
    engine.advance_idle(86_400_000)
    drain()
    return rows, duplicates, rejected


def _offered(rows: dict[str, dict[tuple[Any, ...], Any]]) -> int:
    return sum(row[QualityRow._fields.index("offered")] for row in rows["quality_interval"].values())


@pytest.mark.parametrize("setup", ["virtualized", "network_delivered", "enterprise_routed"])
@pytest.mark.parametrize("resent_at", [timedelta(hours=9), timedelta(hours=20)])
def test_a_day_re_sent_the_next_day_is_counted_once(setup: str, resent_at: timedelta) -> None:
    """Day 1 is published again when day 2 has reached 09:00 or 20:00, 11 to 37 hours after day 1's events
    (ids used to be forgotten after 6): the rows are those of one pass, every re-sent event a duplicate."""
    _, events = _two_days(setup)
    day1 = [e for e in events if e.ts < DAY2]
    day2 = [e for e in events if e.ts >= DAY2]
    cut = next(n for n, e in enumerate(day2) if e.ts >= DAY2 + resent_at)
    assert len(day1) > 1000
    assert 0 < cut < len(day2)
    once, no_duplicates, no_rejects = _rows(setup, list(events))
    twice, duplicates, rejected = _rows(setup, [*day1, *day2[:cut], *day1, *day2[cut:]])
    assert _offered(twice) == _offered(once) > 0
    for table in TABLES:
        assert twice[table] == once[table], table
    assert (no_duplicates, no_rejects) == (0, 0)
    assert (duplicates, rejected) == (len(day1), 0)


def test_an_event_older_than_the_horizon_is_refused_with_its_reason() -> None:
    _, events = _two_days("virtualized")
    config = _config("virtualized").model_copy(update={"retention_hours": 6})
    engine = ContactPartition(0, config)
    engine.process(enumerate(events))
    first = events[0]
    out = engine.process([(len(events), first)])  # its day is over 24 h behind: past a 6 h horizon
    assert [(r.offset, r.reason) for r in out.rejected] == [
        (len(events), "event time older than the 6 h correction horizon")
    ]
    assert out.duplicates == 0
    # Its id was forgotten with its hour; one inside the horizon is still recognised.
    assert len(engine.dedup) < len(events)
    assert engine.process([(len(events) + 1, events[-1])]).duplicates == 1


def test_a_checkpoint_that_kept_fewer_hours_of_ids_refuses_what_it_cannot_check() -> None:
    """A checkpoint written before ids were kept for the whole horizon (no `dedup_unchecked`, 6 h of ids): an
    event of day 1 re-sent after the restore could have been forgotten, so it is refused saying why, not
    counted again; one of an hour it kept is a duplicate; new events are counted."""
    setup, events = _two_days("virtualized")
    day2 = [e for e in events if e.ts >= DAY2]
    engine = ContactPartition(0, _config(setup))
    engine.process(enumerate(events))
    snapshot = engine.snapshot()
    del snapshot["dedup_unchecked"]
    kept_from = max(int(key) for key in snapshot["dedup"]) - 5 * 3_600_000
    snapshot["dedup"] = {key: ids for key, ids in snapshot["dedup"].items() if int(key) >= kept_from}
    restored = ContactPartition.restore(snapshot, _config(setup))
    offset = len(events)
    out = restored.process([(offset, events[0]), (offset + 1, day2[-1])])
    assert [r.offset for r in out.rejected] == [offset]
    assert "the oldest whose ids this partition remembers" in out.rejected[0].reason
    assert "a duplicate could not be recognised" in out.rejected[0].reason
    assert out.duplicates == 1
    # The limit is checkpointed, and lifted once the horizon has passed it.
    assert ContactPartition.restore(restored.snapshot(), _config(setup)).unchecked_before
    later = day2[-1].model_copy(update={"ts": day2[-1].ts + timedelta(hours=60), "event_id": uuid4()})
    assert restored.process([(offset + 2, later)]).duplicates == 0
    assert restored.unchecked_before == {}


def test_a_re_sent_event_is_stored_once_in_the_raw_events_table() -> None:
    """`acd_events` is keyed by (topic, partition, offset): a re-sent event, at a new offset, made a second row."""
    setup, events = _two_days("virtualized")
    written: dict[str, list[Sequence[Any]]] = defaultdict(list)

    def write(table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        written[table].extend(rows)

    pipeline = EnginePipeline(
        BatchSink(write, 10**9, 10**9), _config(setup), {"contacts": "contact"}, loopback=True
    )
    day1 = [e for e in events if e.ts < DAY2]
    stream = [*events, *day1[:2000]]
    records = [
        Record("contacts", 0, n, None, encode_event(e), int(e.ts.timestamp() * 1000))
        for n, e in enumerate(stream)
    ]
    for start in range(0, len(records), 700):
        pipeline.process(records[start : start + 700])
    pipeline.sink.flush()
    ids = [row[3] for row in written["acd_events"]]
    assert len(ids) == len(set(ids)) == len(events)
    assert pipeline.duplicates == 2000


def test_a_configuration_still_setting_dedup_hours_is_refused_saying_why() -> None:
    with pytest.raises(
        ValidationError, match="dedup_hours is no longer a setting: event ids are remembered for"
    ):
        EngineConfig.model_validate({"dedup_hours": 6})
