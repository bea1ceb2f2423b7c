"""Dashboard columns no other test saw with non-zero inputs, on hand-made counters in embedded ClickHouse (chDB),
every expected number worked out by hand from the rows below. No servers.

The setup comparison, the daily summary, the overflow trend and the volume were checked only for NULL where a
setup hides a figure, for "not NULL", or on a simulated run; other dashboards' columns (SLA targets, kinds,
cost models, utilisation, trigger counts, the board's scheduled and actual states) not at all. A wrong formula
(a mean of per-source ratios instead of a ratio of sums, the wrong counter, UTC days instead of the center's)
would pass those. The numbers here tell them apart: e.g. two vendors answering in 15 s and 30 s on average
over 8 and 4 calls wait 20 s together, not 22.5 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from acdscope.dashboards import run
from acdscope.demo import embedded_warehouse
from streams.engine.adherence import AdherenceRow
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.overflow import OverflowRow
from streams.engine.quality import QualityRow
from streams.engine.repeats import RepeatRow
from streams.engine.volume import VolumeRow
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.tables import TABLES
from streams.warehouse.tables import LiveRow
from streams.warehouse.terms import load_terms
from tests.support.warehouse import THRESHOLDS
from tests.support.warehouse import quality_row

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
Q1 = T0 + timedelta(minutes=15)
# 22:30 UTC is 00:30 on 6 January in Israel (UTC+2 in winter): the next local day, the same UTC day.
LATE = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)
WINDOW = {"from": datetime(2026, 1, 5, tzinfo=UTC), "until": datetime(2026, 1, 7, tzinfo=UTC)}
ROUTING_HIDDEN = "network-delivered: the carrier splits"
OUTCOME_HIDDEN = "enterprise-routed: a redirected call's outcome at the vendor is not seen"
REPORTED = "network-delivered: only the vendor's interval reports are seen"


def quality(tenant: str, source: str, start: datetime, within_20s: int, **figures: Any) -> QualityRow:
    """A row of the engine's events path, zero but for `figures`; `within_20s` answered within 20 s."""
    row = quality_row(tenant, source, start, **figures)
    return row._replace(answered_within=[0, within_20s, row.answered, row.answered])


def report(tenant: str, source: str, start: datetime, within_20s: int, **figures: Any) -> QualityRow:
    """A row from a vendor's interval report, as the engine writes it: what reports do not carry is NULL."""
    return quality(tenant, source, start, within_20s, **figures)._replace(
        observed_via="vendor_report", short_abandoned=None, abandoned_within=[None] * 4,
        wait_answered_ms=None, wait_abandoned_ms=None, talk_ms=None, hold_ms=None, acw_ms=None,
        transferred_in=None, overflowed_out=None, hidden_reason=REPORTED,
    )  # fmt: skip


ROUTING = ("overflowed", "overflowed_timeout", "overflowed_split", "overflowed_call_type", "overflow_wait_ms",
           "redirect_accepted", "redirect_failed", "redirect_returned")  # fmt: skip


def calls(
    tenant: str, start: datetime, arrived: int, answered: int, within_20s: int, abandoned: int, **figures: Any
) -> OverflowRow:
    """Customer calls arriving at the enterprise ACD, `within_20s` of them answered within 20 s end to end;
    the routing figures, `e2e_hidden` and `hidden_reason` 0 (or '') unless given."""
    return OverflowRow(
        tenant=tenant, primary_source="in-house", call_type="billing", interval_start=start, interval_minutes=15,
        stream_partition=0, arrived=arrived, **{name: 0 for name in ROUTING}, thresholds_s=THRESHOLDS,
        e2e_answered=answered, e2e_answered_within=[0, within_20s, answered, answered], e2e_abandoned=abandoned,
        e2e_wait_answered_ms=0, e2e_hidden=0, hidden_reason="", is_final=1, version=1,
    )._replace(**figures)  # fmt: skip


def agent(
    tenant: str,
    source: str,
    agent_id: str,
    start: datetime,
    exception_ms: int,
    on_queue_ms: int = 900_000,
    handling_ms: int = 0,
) -> AdherenceRow:
    """An agent scheduled on queue the whole quarter hour, `exception_ms` of it out of adherence, `on_queue_ms`
    of it on queue (ready, talking or wrapping up) and `handling_ms` of that on contacts or in wrap-up."""
    return AdherenceRow(
        interval_start=start, tenant=tenant, source=source, team="team", agent_id=agent_id, stream_partition=0,
        scheduled_ms=900_000, exception_ms=exception_ms, in_adherence_ms=900_000 - exception_ms,
        out_of_adherence_ms=exception_ms, unscheduled_ms=0, unknown_ms=0, scheduled_on_queue_ms=900_000,
        worked_on_queue_ms=on_queue_ms, handling_ms=handling_ms, version=1,
    )  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("columns") / "chdb"
    with embedded_warehouse(data) as client:
        load_terms(
            client,
            EngineConfig(
                tenants={
                    "v": TenantConfig(
                        setup="virtualized",
                        engagement="shared",
                        sources={
                            "in-house": SourceTerms(cost_model="loaded_hourly", rate=48.0),
                            "vendor-a": SourceTerms(cost_model="per_contact", rate=2.5, sla_credit=0.1),
                            "vendor-b": SourceTerms(cost_model="per_handled_minute", rate=0.5),
                        },
                    ),
                    "n": TenantConfig(
                        setup="network_delivered",
                        engagement="shared",
                        sources={"in-house": SourceTerms(), "vendor-a": SourceTerms()},
                    ),
                    "d": TenantConfig(
                        setup="virtualized",
                        engagement="targeted",
                        sources={"in-house": SourceTerms(), "vendor-a": SourceTerms()},
                    ),
                    "e": TenantConfig(
                        setup="enterprise_routed",
                        engagement="full",
                        sources={"in-house": SourceTerms(), "vendor-a": SourceTerms()},
                    ),
                }
            ),
        )
        write = clickhouse_writer(client)
        write("quality_interval", TABLES["quality_interval"].columns, [
            # v: in-house 20 offered, 16 answered (12 within 20 s) after 10 s each, 240 s handle, 200 s talk.
            quality("v", "in-house", T0, 12, offered=20, answered=16, abandoned=4, wait_answered_ms=160_000,
                    handled=16, handle_ms=3_840_000, talk_ms=3_200_000),
            # v: vendor-a 8 answered after 15 s each, 300 s handle; vendor-b 4 after 30 s, 360 s handle.
            quality("v", "vendor-a", T0, 6, offered=10, answered=8, abandoned=2, wait_answered_ms=120_000,
                    handled=8, handle_ms=2_400_000, talk_ms=2_000_000),
            quality("v", "vendor-b", Q1, 4, offered=5, answered=4, abandoned=1, wait_answered_ms=120_000,
                    handled=4, handle_ms=1_440_000, talk_ms=1_200_000, stream_partition=1),
            # n: the carrier sends vendor-a its calls; only its report is seen (330 s handle, no wait, no talk).
            quality("n", "in-house", T0, 9, offered=12, answered=10, abandoned=2, wait_answered_ms=100_000,
                    handled=10, handle_ms=2_000_000, talk_ms=1_800_000),
            report("n", "vendor-a", T0, 5, offered=8, answered=7, abandoned=1, handled=7, handle_ms=2_310_000),
            # d: local day 5 January: in-house 10 handled of 180 s talk, vendor-a 5 of 240 s; 6 January
            # (00:30 local): in-house 4 of 150 s.
            quality("d", "in-house", T0, 8, offered=12, answered=10, abandoned=2, wait_answered_ms=100_000,
                    handled=10, handle_ms=2_400_000, talk_ms=1_800_000),
            quality("d", "vendor-a", Q1, 4, offered=6, answered=5, abandoned=1, wait_answered_ms=75_000,
                    handled=5, handle_ms=1_500_000, talk_ms=1_200_000),
            quality("d", "in-house", LATE, 4, offered=5, answered=4, abandoned=1, wait_answered_ms=20_000,
                    handled=4, handle_ms=800_000, talk_ms=600_000),
            # e: 3 of 10 calls redirected to vendor-a, whose report says it handled them in 300 s each.
            quality("e", "in-house", T0, 5, offered=7, answered=6, abandoned=1, wait_answered_ms=60_000,
                    handled=6, handle_ms=1_500_000, talk_ms=1_200_000),
            report("e", "vendor-a", T0, 3, offered=3, answered=3, handled=3, handle_ms=900_000)._replace(
                hidden_reason="enterprise-routed: only its interval reports"),
        ])  # fmt: skip
        write("overflow_interval", TABLES["overflow_interval"].columns, [
            # v 09:00: 30 calls, 10 overflowed (6 after 30 s each, 4 by the split), 1 redirect failed.
            calls("v", T0, 30, 24, 18, 6, overflowed=10, overflowed_timeout=6, overflowed_split=4,
                  overflow_wait_ms=180_000, redirect_accepted=9, redirect_failed=1),
            # v 09:15: 10 calls, 5 overflowed (3 after 40 s each, 2 by call type), 2 came back from the vendor.
            calls("v", Q1, 10, 8, 7, 2, overflowed=5, overflowed_timeout=3, overflowed_call_type=2,
                  overflow_wait_ms=120_000, redirect_accepted=3, redirect_returned=2),
            calls("n", T0, 12, 10, 9, 2, **dict.fromkeys(ROUTING), hidden_reason=ROUTING_HIDDEN),
            calls("d", T0, 18, 15, 12, 3, overflowed=6, overflowed_timeout=6, overflow_wait_ms=180_000,
                  redirect_accepted=6),
            calls("d", LATE, 5, 4, 4, 1),
            calls("e", T0, 10, 6, 5, 1, overflowed=3, overflowed_split=3, redirect_accepted=3, e2e_hidden=3,
                  hidden_reason=OUTCOME_HIDDEN),
        ])  # fmt: skip
        write("adherence_interval", TABLES["adherence_interval"].columns, [
            # 810 s of the 900 on queue, 486 s of those on contacts or in wrap-up.
            agent("v", "in-house", "ih-1", T0, 90_000, on_queue_ms=810_000, handling_ms=486_000),
            agent("v", "vendor-a", "va-1", T0, 0, handling_ms=600_000),
            agent("v", "vendor-b", "vb-1", Q1, 270_000),
            agent("n", "in-house", "nh-1", T0, 45_000),
        ])  # fmt: skip
        # v in-house: 4 of its 16 handled first calls were called about again; the window is still open.
        write("repeat_interval", TABLES["repeat_interval"].columns,
              [RepeatRow("v", "in-house", "billing", T0, 15, 0, 16, 4, 24, 1, 1)])  # fmt: skip
        write("contact_volume_interval", TABLES["contact_volume_interval"].columns, [
            VolumeRow("v", T0, "in-house", 0, 12, 9, 3, 1),
            VolumeRow("v", T0, "in-house", 1, 8, 7, 1, 1),  # a second stream partition
            VolumeRow("d", T0, "in-house", 0, 12, 10, 2, 1),  # another tenant: the dashboard sums them
            VolumeRow("v", T0, "vendor-a", 0, 10, 8, 2, 1),
        ])  # fmt: skip
        write("adherence_live", TABLES["adherence_live"].columns, [
            LiveRow("v", "ih-1", "in-house", "team-2", 1, T0 + timedelta(minutes=50), 10 * 60_000, 0,
                    "on_queue", "not_ready", "negative", T0 + timedelta(hours=1), 7),
        ])  # fmt: skip
        yield client


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_setup_comparison_every_column_on_non_zero_counters(warehouse: Any) -> None:
    """The vendors are every vendor together: ratios of their summed counters, not means of theirs."""
    rows = {row["scenario"]: row for row in _rows(run(warehouse, "setup_comparison", WINDOW))}
    assert [row["scenario"] for row in rows.values()] == ["n", "e", "d", "v"]  # by setup, then engagement
    assert rows["v"] == {
        "scenario": "v",
        "setup": "virtualized",
        "engagement": "shared",
        "arrived_at_acd": 40,  # 30 + 10
        "overflow_rate": 0.375,  # (10 + 5) / 40
        "e2e_sl_20s": 0.625,  # (18 + 7) / 40
        "e2e_hidden_reason": "",
        "in_house_offered": 20,
        "in_house_sl_20s": 0.6,  # 12 / 20
        "vendor_offered": 15,  # 10 + 5
        "vendor_sl_20s": 0.6667,  # (6 + 4) / 15
        "vendor_abandon_rate": 0.2,  # (2 + 1) / 15
        "vendor_asa_s": 20.0,  # (120 + 120 s) / (8 + 4) answered; the mean of 15 s and 30 s would be 22.5
        "vendor_aht_s": 320.0,  # (2400 + 1440 s) / (8 + 4) handled; the mean of 300 s and 360 s would be 330
        "vendor_adherence": 0.85,  # 1 - (0 + 270 s) / (900 + 900 s)
        "in_house_adherence": 0.9,  # 1 - 90 / 900
    }
    n = rows["n"]
    # The carrier routes: no routing, no end-to-end figure; the vendor's reports give its AHT, not its ASA.
    assert (n["arrived_at_acd"], n["overflow_rate"], n["e2e_sl_20s"]) == (12, None, None)
    assert n["e2e_hidden_reason"] == ROUTING_HIDDEN
    assert (n["in_house_offered"], n["in_house_sl_20s"], n["in_house_adherence"]) == (12, 0.75, 0.95)
    assert (n["vendor_offered"], n["vendor_sl_20s"], n["vendor_abandon_rate"]) == (8, 0.625, 0.125)
    assert (n["vendor_asa_s"], n["vendor_aht_s"], n["vendor_adherence"]) == (None, 330.0, None)  # 2310 s / 7
    e = rows["e"]
    assert (e["arrived_at_acd"], e["overflow_rate"], e["e2e_sl_20s"]) == (10, 0.3, None)
    assert e["e2e_hidden_reason"] == OUTCOME_HIDDEN
    assert (e["vendor_offered"], e["vendor_asa_s"], e["vendor_aht_s"]) == (3, None, 300.0)  # 900 s / 3
    d = rows["d"]
    assert (d["vendor_asa_s"], d["vendor_aht_s"]) == (15.0, 300.0)  # 75 s / 5, 1500 s / 5


def test_daily_summary_on_the_centers_local_days(warehouse: Any) -> None:
    """Mean service time is talk time over handled calls of every source that day: (1800 + 1200 s) / (10 + 5)
    = 200 s, not the 210 s mean of the two sources' 180 s and 240 s; the 22:30 UTC calls are on the next
    Israeli day (in UTC the first day would have 19 calls of 189.5 s)."""
    params = {"tenant": "d", "tz": "Asia/Jerusalem", "from": date(2026, 1, 5), "until": date(2026, 1, 7)}
    assert _rows(run(warehouse, "daily_summary", params)) == [
        {"day": date(2026, 1, 5), "arrived": 18, "answered": 15, "abandoned": 3, "outcome_hidden": 0,
         "abandon_rate": 0.1667, "handled": 15, "mean_service_s": 200.0},
        {"day": date(2026, 1, 6), "arrived": 5, "answered": 4, "abandoned": 1, "outcome_hidden": 0,
         "abandon_rate": 0.2, "handled": 4, "mean_service_s": 150.0},
    ]  # fmt: skip


def test_daily_summary_hides_what_the_setup_hides(warehouse: Any) -> None:
    """A vendor seen only through its reports has no talk time: the day's mean service time is NULL, not the
    in-house calls' alone. Enterprise-routed, 3 redirected calls' outcomes are hidden: abandons are NULL."""
    utc = {"tz": "UTC", "from": date(2026, 1, 5), "until": date(2026, 1, 6)}
    (n,) = _rows(run(warehouse, "daily_summary", {"tenant": "n", **utc}))
    assert n == {"day": date(2026, 1, 5), "arrived": 12, "answered": 10, "abandoned": None, "outcome_hidden": 0,
                 "abandon_rate": None, "handled": 17, "mean_service_s": None}  # fmt: skip
    (e,) = _rows(run(warehouse, "daily_summary", {"tenant": "e", **utc}))
    assert e == {"day": date(2026, 1, 5), "arrived": 10, "answered": 6, "abandoned": None, "outcome_hidden": 3,
                 "abandon_rate": None, "handled": 9, "mean_service_s": None}  # fmt: skip


def test_overflow_trend_by_trigger_wait_and_failed_redirects(warehouse: Any) -> None:
    result = run(warehouse, "overflow_trend", {"tenant": "v", **WINDOW})
    assert _rows(result) == [
        {"interval_start": T0, "arrived": 30, "overflowed": 10, "overflow_rate": 0.3333, "by_timeout": 6,
         "by_split": 4, "by_call_type": 0, "wait_before_overflow_s": 30.0,  # 180 s over 6 timeouts
         "redirects_failed_or_returned": 1, "e2e_sl_20s": 0.6, "hidden_reason": ""},  # 18 / 30
        {"interval_start": Q1, "arrived": 10, "overflowed": 5, "overflow_rate": 0.5, "by_timeout": 3,
         "by_split": 0, "by_call_type": 2, "wait_before_overflow_s": 40.0,  # 120 s over 3 timeouts
         "redirects_failed_or_returned": 2, "e2e_sl_20s": 0.7, "hidden_reason": ""},  # 7 / 10
    ]  # fmt: skip


def test_contact_volume_sums_partitions_and_tenants(warehouse: Any) -> None:
    result = run(warehouse, "contact_volume", {"from": T0, "until": T0 + timedelta(hours=1)})
    assert _rows(result) == [
        {"interval_start": T0, "source": "in-house", "offered": 32, "answered": 26, "abandoned": 6,
         "abandon_rate": 0.1875},  # 6 / (12 + 8 + 12)
        {"interval_start": T0, "source": "vendor-a", "offered": 10, "answered": 8, "abandoned": 2,
         "abandon_rate": 0.2},
    ]  # fmt: skip


def test_vendor_scorecard_fcr_proxy_and_its_censoring(warehouse: Any) -> None:
    result = run(warehouse, "vendor_scorecard", {"tenant": "v", **WINDOW})
    rows = {row["source"]: row for row in _rows(result)}
    assert [(row["source"], row["kind"], row["sla_target"]) for row in rows.values()] == [
        ("in-house", "in_house", 0.8), ("vendor-a", "vendor", 0.8), ("vendor-b", "vendor", 0.8),
    ]  # fmt: skip
    # 4 of 16 handled first calls repeated: 1 - 4/16; the repeat window had not closed (censored).
    assert (rows["in-house"]["fcr_proxy"], rows["in-house"]["fcr_censored"]) == (0.75, 1)
    assert (rows["vendor-b"]["fcr_proxy"], rows["vendor-b"]["fcr_censored"]) == (None, None)
    vendor_b = rows["vendor-b"]
    # 120 s over 4 answered, 1440 s over 4 handled, 1 - 270 / 900; 24 handled minutes at 0.50 over 4 contacts.
    assert (vendor_b["asa_s"], vendor_b["aht_s"], vendor_b["adherence"]) == (30.0, 360.0, 0.7)
    assert (vendor_b["cost_per_contact"], vendor_b["intervals_breached"]) == (3.0, 0)


def test_vendor_scorecard_of_a_vendor_seen_through_its_reports(warehouse: Any) -> None:
    """Network-delivered: vendor-a's figures are its reports' (7 of 8 answered, 5 within 20 s, 330 s handle);
    what reports do not carry is NULL, and the row says why."""
    rows = {
        row["source"]: row for row in _rows(run(warehouse, "vendor_scorecard", {"tenant": "n", **WINDOW}))
    }
    vendor = rows["vendor-a"]
    assert (vendor["offered"], vendor["sl_abandons_against"], vendor["aht_s"]) == (8, 0.625, 330.0)
    assert (vendor["asa_s"], vendor["transferred_in"], vendor["sl_short_excluded"]) == (None, None, None)
    assert vendor["hidden_reason"] == REPORTED
    assert rows["in-house"]["hidden_reason"] == ""


def test_source_cost_every_column(warehouse: Any) -> None:
    """In-house: 48.00 per rostered hour for 15 minutes; vendor-a: 2.50 per answered call, 10 % back in a
    breached interval; vendor-b: 0.50 per handled minute (4 calls of 6 minutes), its SLA met (4 / 5 = 80 %)."""
    assert _rows(run(warehouse, "source_cost", {"tenant": "v", **WINDOW})) == [
        {"tenant": "v", "source": "in-house", "interval_start": T0, "kind": "in_house", "cost_model": "loaded_hourly",
         "offered": 20, "handled": 16, "service_level": 0.6, "sla_target": 0.8, "sla_breached": 1,
         "gross_cost": 12.0, "sla_credit_amount": 0.0, "net_cost": 12.0, "cost_per_contact": 0.75,
         "hidden_reason": ""},
        {"tenant": "v", "source": "vendor-a", "interval_start": T0, "kind": "vendor", "cost_model": "per_contact",
         "offered": 10, "handled": 8, "service_level": 0.6, "sla_target": 0.8, "sla_breached": 1,
         "gross_cost": 20.0, "sla_credit_amount": 2.0, "net_cost": 18.0, "cost_per_contact": 2.25,
         "hidden_reason": ""},
        {"tenant": "v", "source": "vendor-b", "interval_start": Q1, "kind": "vendor",
         "cost_model": "per_handled_minute", "offered": 5, "handled": 4, "service_level": 0.8, "sla_target": 0.8,
         "sla_breached": 0, "gross_cost": 12.0, "sla_credit_amount": 0.0, "net_cost": 12.0,
         "cost_per_contact": 3.0, "hidden_reason": ""},
    ]  # fmt: skip


def test_sla_streaks_per_interval_and_per_day_every_column(warehouse: Any) -> None:
    expected = [
        ("v", "in-house", 20, 0.6, 0.8, 1, 1, 0),  # 12 / 20 < 80 %: a streak of 1, chronic only from 8
        ("v", "vendor-a", 10, 0.6, 0.8, 1, 1, 0),
        ("v", "vendor-b", 5, 0.8, 0.8, 0, 0, 0),  # 4 / 5 is not under 80 %
    ]
    intervals = _rows(run(warehouse, "sla_streaks", {"tenant": "v", **WINDOW}))
    assert [tuple(row.values()) for row in intervals] == [(*e[:2], start, *e[2:]) for e, start in
                                                          zip(expected, [T0, T0, Q1], strict=True)]  # fmt: skip
    days = _rows(run(warehouse, "sla_streaks_daily", {"tenant": "v", **WINDOW}))
    assert [tuple(row.values()) for row in days] == [(*e[:2], date(2026, 1, 5), *e[2:]) for e in expected]


def test_value_ranking_cost_per_contact_and_value(warehouse: Any) -> None:
    rows = _rows(run(warehouse, "value_ranking", {"tenant": "v", **WINDOW}))
    assert [tuple(row.values()) for row in rows] == [
        ("in-house", 0.6, 0.75, 0.75, 0.6, 1, ""),  # 0.6 x 0.75 / 0.75: 12.00 over 16 answered
        ("vendor-a", 0.6, None, 2.25, None, None, "fcr_proxy"),  # (20.00 - 2.00) / 8
        ("vendor-b", 0.8, None, 3.0, None, None, "fcr_proxy"),
    ]


def test_staffing_interval_every_column_without_a_forecast(warehouse: Any) -> None:
    """In-house at 09:00: 20 calls of 240 s in 15 minutes are 5.33 Erlangs, and its callers waited 160 s in all
    for 4 abandons: a mean patience of 40 s, so Erlang A (M/M/n+M, `streams.engine.queueing.erlang_a`): 6 agents
    answer 76 % within 20 s, 7 agents 85 %: 7 required for 80 %, 0.9 staffed (810 s on queue over 900 s)."""
    rows = {
        row["source"]: row for row in _rows(run(warehouse, "staffing_interval", {"tenant": "v", **WINDOW}))
    }
    assert rows["in-house"] == {
        "source": "in-house", "interval_start": T0, "offered": 20, "forecast_calls": None,
        "volume_variance": None, "aht_s": 240.0, "forecast_aht_s": None, "aht_variance": None,
        "service_level": 0.6, "sla_target": 0.8, "staffed_agents": 0.9, "required_agents": 7,
        "required_model": "Erlang A", "mean_patience_s": 40.0, "over_under_agents": -6.1,
        "staffing_basis": "agent states", "contracted_seats": None, "seats_gap_agents": None,
        "required_for_forecast": None, "breach_cause": None,
        "breach_cause_hidden_reason": "no forecast of in-house for the interval",
        "occupancy": 0.6, "utilisation": 0.54, "shrinkage": 0.1,  # 486 / 810, 486 / 900, 1 - 810 / 900
        "staffing_hidden_reason": "", "schedule_hidden_reason": "",
    }  # fmt: skip
    vendor_a, vendor_b = rows["vendor-a"], rows["vendor-b"]
    # vendor-a: 10 calls of 300 s, 3.33 Erlangs, patience 120 s / 2 = 60 s: 4 agents answer 73 %, 5 agents 85 %;
    # 600 s of 900 s handling.
    assert (vendor_a["required_agents"], vendor_a["over_under_agents"]) == (5, -4.0)
    assert (vendor_a["required_model"], vendor_a["mean_patience_s"]) == ("Erlang A", 60.0)
    assert (vendor_a["occupancy"], vendor_a["utilisation"], vendor_a["shrinkage"]) == (0.6667, 0.6667, 0.0)
    # vendor-b: 5 calls of 360 s, 2 Erlangs, patience 120 s: 3 agents answer 75 %, 4 agents 89 %; met its SLA:
    # no cause asked.
    assert (vendor_b["interval_start"], vendor_b["required_agents"], vendor_b["over_under_agents"]) == (
        Q1,
        4,
        -3.0,
    )
    assert (vendor_b["breach_cause"], vendor_b["breach_cause_hidden_reason"]) == (None, "")


def test_rta_board_says_what_was_scheduled_and_what_the_agent_does(warehouse: Any) -> None:
    (row,) = _rows(run(warehouse, "rta_board", {"tenant": "v", "min_duration_s": 0}))
    assert row == {"agent_id": "ih-1", "source": "in-house", "team": "team-2", "scheduled": "on_queue",
                   "actual": "not_ready", "impact": "negative", "since": T0 + timedelta(minutes=50),
                   "minutes_out": 10.0, "severe": 0, "as_of": T0 + timedelta(hours=1)}  # fmt: skip
