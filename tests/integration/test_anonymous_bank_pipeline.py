"""The real January 1999 Anonymous Bank log through the engine into ClickHouse: the warehouse holds the month's
known figures and the adapter's day-by-day table exactly."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from datetime import timedelta
from pathlib import Path

import pytest

from acdscope.dashboards import run
from producers.feeds.anonymous_bank import TENANT
from producers.feeds.anonymous_bank import BankCall
from producers.feeds.anonymous_bank import daily_figures
from producers.feeds.anonymous_bank import parse
from producers.feeds.anonymous_bank import to_events
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.events import CallerHasher
from streams.events import encode_event
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import BatchSink
from streams.warehouse.sink import clickhouse_writer

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "anonymous_bank" / "january.txt"


def test_january_1999_through_the_engine(clickhouse_db) -> None:
    _, client = clickhouse_db
    migrate(client)
    with DATA.open(encoding="latin-1") as lines:
        calls = [item for item in parse(lines) if isinstance(item, BankCall)]
    hasher = CallerHasher(b"bank-test")
    events = sorted((e for call in calls for e in to_events(call, hasher)), key=lambda e: e.ts)
    records = [Record("bank", 0, i, None, encode_event(e), 0) for i, e in enumerate(events)]
    config = EngineConfig(tenants={TENANT: TenantConfig(setup="virtualized")})
    sink = BatchSink(clickhouse_writer(client), max_rows=100_000, max_age_s=3600)
    pipeline = EnginePipeline(sink, config, {"bank": "contact"}, keep_raw=False)
    for start in range(0, len(records), 20_000):
        pipeline.process(records[start : start + 20_000])
        sink.flush()
    assert pipeline.rejected == 0

    arrived, answered, abandoned = client.query(
        "select sum(arrived), sum(e2e_answered), sum(e2e_abandoned) from overflow_interval final"
    ).result_rows[0]
    assert (arrived, answered, abandoned) == (31_359, 27_060, 4_299)  # AGENT + HANG; phantoms are no calls
    offered, handled, talk_ms = client.query(
        "select sum(offered), sum(handled), sum(talk_ms) from quality_interval final"
    ).result_rows[0]
    # Offered to the queue: every served call (direct ones for 0 s) and the hang-ups that had queued; the
    # 1,198 that hung up in the VRU never reached it.
    hung_up_in_vru = sum(1 for call in calls if call.outcome == "HANG" and not call.queued)
    assert hung_up_in_vru == 1_198
    assert offered == 27_060 + 4_299 - 1_198
    assert handled == 27_060
    assert talk_ms == 1000 * sum(call.ser_time for call in calls if call.outcome == "AGENT")

    # Day by day, on the log's own (Israel, UTC+2) dates: offered and abandoned equal the adapter's table.
    per_day: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for start, day_arrived, day_abandoned in client.query(
        "select interval_start, sum(arrived), sum(e2e_abandoned) from overflow_interval final group by interval_start"
    ).result_rows:
        local_day = (start + timedelta(hours=2)).date()
        per_day[local_day][0] += day_arrived
        per_day[local_day][1] += day_abandoned
    table = daily_figures(calls)
    expected = {day.day: [day.offered, day.abandoned] for day in table}
    assert dict(per_day) == expected

    # The same table through the daily_summary dashboard, days in the bank's own zone (Israel, UTC+2 in 1999).
    daily = run(client, "daily_summary", {"tenant": TENANT, "tz": "Asia/Jerusalem",
                                          "from": date(1999, 1, 1), "until": date(1999, 2, 1)})  # fmt: skip
    got = [dict(zip(daily.columns, row, strict=True)) for row in daily.rows]
    assert [(r["day"], r["arrived"], r["abandoned"], r["answered"]) for r in got] == [
        (day.day, day.offered, day.abandoned, day.served) for day in table
    ]
    # Service counts in the day the call entered the queue (quality's arrival attribution; a call that never
    # queued enters at its answer; calls crossing midnight move to the next day); the mean is over every served call.
    served: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for call in calls:
        if call.outcome == "AGENT" and call.ser_start is not None:
            entered = call.q_start if call.q_start is not None else max(call.vru_entry, call.ser_start)
            answered_day = served[(entered + timedelta(hours=2)).date()]
            answered_day[0] += 1
            answered_day[1] += call.ser_time
    assert [r["handled"] for r in got] == [n for _, (n, _) in sorted(served.items())]
    exact = [t / n for _, (n, t) in sorted(served.items())]
    assert all(abs(r["mean_service_s"] - mean) <= 0.05 + 1e-9 for r, mean in zip(got, exact, strict=True))
