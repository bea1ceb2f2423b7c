"""Contract settlement per billing period (`settlement` in the metric layer, the `settlement` dashboard), on
hand-made counters in embedded ClickHouse (chDB): every invoice worked out by hand in the comments. Five months
of one vendor crossing penalty tiers (at and across a bound), hitting the penalty cap, earning a capped bonus,
turning chronic and earning a penalty back; an anchored vendor above, inside and below its band; the in-house
center's loaded cost from pay, benefits, time off and overhead, its quiet hours billed too; and what each
setup lets the enterprise check of a vendor's bill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from acdscope.dashboards import run
from acdscope.demo import embedded_warehouse
from streams.engine.adherence import AdherenceRow
from streams.engine.config import HIDDEN_VENDOR_CALLS
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.overflow import OverflowRow
from streams.engine.overflow import OverflowTargetRow
from streams.engine.quality import QualityRow
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.tables import TABLES
from streams.warehouse.terms import load_terms
from tests.support.warehouse import quality_row
from tests.support.warehouse import report_row

QUARTER_MS = 900_000
PER_CONTACT = 4.0
SL_TIERS = {
    "target": 0.8,
    "penalties": [
        {"bound": 0.8, "share": 0.02},
        {"bound": 0.75, "share": 0.05},
        {"bound": 0.7, "share": 0.10},
    ],
    "bonuses": [{"bound": 0.85, "share": 0.02}],
}
VENDOR_A = SourceTerms(
    cost_model="per_contact", rate=PER_CONTACT, penalty_cap=0.06, bonus_cap=0.01, earn_back_after=2,
    chronic_after_periods=2,
    kpis={"service_level": SL_TIERS, "abandonment": {"target": 0.05, "penalties": [{"bound": 0.05, "share": 0.01}]}},
)  # fmt: skip
VENDOR_B = SourceTerms(
    cost_model="anchored",
    anchored={"baseline": 1000, "band": 0.1, "base_fee": 4000, "above_rate": 3.5, "below_rate": 2.5},
)
VENDOR_R = SourceTerms(
    cost_model="per_contact", rate=PER_CONTACT,
    kpis={"service_level": {"target": 0.8}, "adherence": {"target": 0.9}},
)  # fmt: skip
LOADED = {
    "annual_salary": 45_500,
    "benefits": 0.28,
    "overhead": 0.2,
    "paid_hours": 2080,
    "time_off_hours": 240,
}
HOURLY = 45_500 * 1.28 * 1.2 / (2080 - 240)  # 37.98 per rostered hour
# vendor-a's months: (offered, answered, answered within 20 s, abandoned).
MONTHS = {
    1: (100, 96, 74, 4),  # SL 0.74: under 0.75, not under 0.70 -> the 5 % tier
    2: (100, 94, 75, 6),  # SL 0.75 exactly: only the 2 % tier; abandonment 0.06 > 0.05 -> 1 %
    3: (200, 190, 120, 10),  # SL 0.60 -> 10 %, over the 6 % cap; abandonment 0.05 = target: met
    4: (100, 99, 90, 1),  # SL 0.90 -> a 2 % bonus, capped at 1 %
    5: (100, 98, 82, 2),  # SL 0.82, abandonment 0.02: met, no bonus; Mar's penalty earned back
}


def _calls(tenant: str, source: str, start: datetime, offered: int, answered: int, within: int) -> QualityRow:
    return quality_row(
        tenant, source, start, offered=offered, answered=answered, abandoned=offered - answered,
        answered_within=[within, within, answered, answered], handled=answered, handle_ms=answered * 300_000,
        wait_answered_ms=answered * 10_000,
    )  # fmt: skip


def _agent(start: datetime, agent: str, tenant: str = "vr", source: str = "in-house") -> AdherenceRow:
    """An agent scheduled and on queue the whole quarter hour, in adherence."""
    return AdherenceRow(
        start, tenant, source, "team", agent, 0, QUARTER_MS, 0, QUARTER_MS, 0, 0, 0, QUARTER_MS, QUARTER_MS,
        300_000, 1,
    )  # fmt: skip


def _report(
    tenant: str, source: str, start: datetime, offered: int, answered: int, within: int
) -> QualityRow:
    """A vendor's interval report as the engine writes it where the setup hides the vendor's calls."""
    return report_row(
        tenant, source, start, HIDDEN_VENDOR_CALLS["enterprise_routed"], offered=offered, answered=answered,
        abandoned=offered - answered, answered_within_20s=within, handled=answered, handle_ms=answered * 300_000,
        staffed_ms=4 * 3_600_000,
    )  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("settlement") / "chdb"
    with embedded_warehouse(data) as client:
        config = EngineConfig(
            tenants={
                "vr": TenantConfig(
                    setup="virtualized",
                    sources={
                        "in-house": SourceTerms(loaded_cost=LOADED),
                        "vendor-a": VENDOR_A,
                        "vendor-b": VENDOR_B,
                    },
                ),
                "er": TenantConfig(
                    setup="enterprise_routed",
                    sources={
                        "in-house": SourceTerms(rate=30.0),
                        "vendor-r": VENDOR_R,
                    },
                ),
            }
        )
        weekly = EngineConfig(
            tenants={
                "wk": TenantConfig(
                    sources={
                        "in-house": SourceTerms(rate=30.0),
                        "vendor-s": SourceTerms(
                            cost_model="per_seat_hour", rate=20.0, contracted_seats=2, billing_period="week"
                        ),
                        "vendor-p": SourceTerms(
                            cost_model="per_productive_hour", rate=30.0, billing_period="week"
                        ),
                    }
                )
            }
        )
        assert load_terms(client, config) + load_terms(client, weekly) == 8
        write = clickhouse_writer(client)
        quality = [_calls("vr", "vendor-a", datetime(2026, m, 10, 9, tzinfo=UTC), o, a, w)
                   for m, (o, a, w, _) in MONTHS.items()]  # fmt: skip
        # vendor-b answers 1,150 in January (50 over the band's 1,100), 950 in February (inside 900..1,100),
        # 850 in March (50 under 900): two intervals a month.
        for month, answered in ((1, 1150), (2, 950), (3, 850)):
            first = answered // 2
            quality += [
                _calls("vr", "vendor-b", datetime(2026, month, 12, 10, tzinfo=UTC), first, first, first),
                _calls("vr", "vendor-b", datetime(2026, month, 12, 11, tzinfo=UTC), answered - first,
                       answered - first, answered - first),
            ]  # fmt: skip
        # The in-house center: 10 calls at 09:00 on 10 January; two agents on queue then, one at 09:15 (quiet).
        quality.append(_calls("vr", "in-house", datetime(2026, 1, 10, 9, tzinfo=UTC), 10, 10, 9))
        # Enterprise-routed: the vendor reports 50 offered, 45 answered, 40 within 20 s; the ACD sent it 52.
        quality.append(_report("er", "vendor-r", datetime(2026, 1, 10, 9, tzinfo=UTC), 50, 45, 40))
        # The weekly tenant's calls (the engine's interval width comes with its rows): in-house only.
        quality.append(_calls("wk", "in-house", datetime(2026, 1, 5, 9, tzinfo=UTC), 10, 10, 9))
        write("quality_interval", TABLES["quality_interval"].columns, quality)
        agents = [
            _agent(datetime(2026, 1, 10, 9, tzinfo=UTC), "a1"),
            _agent(datetime(2026, 1, 10, 9, tzinfo=UTC), "a2"),
            _agent(datetime(2026, 1, 10, 9, 15, tzinfo=UTC), "a1"),
        ]
        # Weekly contracts: vendor-s open (one agent on queue) at 09:00 on Monday 5 January and Sunday 11 January,
        # and on Monday 12 January; vendor-p's agent on queue a quarter hour on 5 January and two on 13 January.
        agents += [
            _agent(datetime(2026, 1, day, 9, tzinfo=UTC), "s1", "wk", "vendor-s") for day in (5, 11, 12)
        ] + [
            _agent(datetime(2026, 1, 5, 9, tzinfo=UTC), "p1", "wk", "vendor-p"),
            _agent(datetime(2026, 1, 13, 9, tzinfo=UTC), "p1", "wk", "vendor-p"),
            _agent(datetime(2026, 1, 13, 9, 15, tzinfo=UTC), "p1", "wk", "vendor-p"),
        ]  # fmt: skip
        write("adherence_interval", TABLES["adherence_interval"].columns, agents)
        # The ACD sent vendor-r 52 calls at 09:00; one hand-off failed (the caller went back to the in-house
        # queue): 51 accepted, against the 50 the vendor reports offered.
        at = datetime(2026, 1, 10, 9, tzinfo=UTC)
        sent = [OverflowTargetRow("er", "in-house", "vendor-r", at, 15, 0, "timeout", 52, 1, 1)]
        write("overflow_target_interval", TABLES["overflow_target_interval"].columns, sent)
        arrivals = [
            OverflowRow("er", "in-house", "billing", at, 15, 0, 60, 52, 52, 0, 0, 52 * 30_000, 51, 1, 0,
                        [10, 20, 30, 60], 0, [0, 0, 0, 0], 0, 0, 51, "", 1, 1)
        ]  # fmt: skip
        write("overflow_interval", TABLES["overflow_interval"].columns, arrivals)
        yield client


def _cents(row: dict[str, Any]) -> dict[str, Any]:
    """Amounts and shares to the cent (and the basis point): 0.05 x 384 is 19.200000000000003 in binary."""
    return {name: round(value, 4) if isinstance(value, float) else value for name, value in row.items()}


WINDOW = {"from": datetime(2026, 1, 1, tzinfo=UTC), "until": datetime(2026, 6, 1, tzinfo=UTC)}


def _settlement(client: Any, tenant: str) -> dict[tuple[str, date], dict[str, Any]]:
    """The metric layer's `settlement` rows (every column, unrounded) by (source, period start)."""
    result = client.query(
        "select * from settlement(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},"
        " until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')",
        parameters={"tenant": tenant, **WINDOW},
    )
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    return {(row["source"], row["period_start"]): row for row in rows}


def test_tiers_caps_bonus_chronic_and_earn_back_over_five_months(warehouse: Any) -> None:
    rows = _settlement(warehouse, "vr")
    months = [_cents(rows[("vendor-a", date(2026, m, 1))]) for m in MONTHS]
    jan, feb, mar, apr, may = months
    # January: 96 contacts x 4.00 = 384.00 billed; SL 0.74 -> 5 % = 19.20 off; 364.80.
    assert (jan["service_level"], jan["billed_amount"], jan["penalty_amount"]) == (0.74, 384.0, 19.2)
    assert (jan["invoice_amount"], jan["verdict"], jan["kpis_missed"]) == (364.8, "at risk", 1)
    # February: SL exactly 0.75 stays in the 2 % tier, abandonment 6 % costs 1 %: 3 % of 376.00 = 11.28.
    assert (feb["billed_amount"], feb["kpi_penalty_share"], feb["penalty_amount"]) == (376.0, 0.03, 11.28)
    assert (feb["invoice_amount"], feb["verdict"], feb["kpis_missed_names"]) == (
        364.72,
        "chronic",
        "abandonment, service_level",
    )
    # March: SL 0.60 -> 10 % of 760.00 = 76.00, capped at 6 % = 45.60; chronic (a third miss in a row).
    assert (mar["kpi_penalty_amount"], mar["penalty_amount"], mar["invoice_amount"]) == (76.0, 45.6, 714.4)
    assert mar["verdict"] == "chronic"
    # April: every KPI met, SL 0.90 earns 2 % of 396.00 = 7.92, capped at 1 % = 3.96: 399.96.
    assert (apr["bonus_amount"], apr["invoice_amount"], apr["verdict"]) == (3.96, 399.96, "on track")
    assert apr["earn_back_amount"] == 0  # one good period after March, not two
    # May: met again, no bonus (0.82 < 0.85); two good periods after March: its 45.60 comes back.
    assert (may["bonus_amount"], may["earn_back_amount"], may["invoice_amount"]) == (0, 45.6, 437.6)
    assert may["credits_owed"] == -45.6
    assert [m["period_complete"] for m in months] == [1, 1, 1, 1, 1]
    assert rows[("vendor-a", date(2026, 5, 1))]["cost_per_contact"] == pytest.approx(437.6 / 98)


def test_anchored_band_above_inside_and_below(warehouse: Any) -> None:
    rows = _settlement(warehouse, "vr")
    billed = [rows[("vendor-b", date(2026, m, 1))]["billed_amount"] for m in (1, 2, 3)]
    # 4,000 + 50 x 3.50 above 1,100; 4,000 inside 900..1,100; 4,000 - 50 x 2.50 below 900.
    assert billed == [4175.0, 4000.0, 3875.0]
    assert rows[("vendor-b", date(2026, 2, 1))]["cost_per_contact"] == pytest.approx(4000 / 950)
    assert rows[("vendor-b", date(2026, 1, 1))]["verdict"] is None
    assert (
        rows[("vendor-b", date(2026, 1, 1))]["verdict_hidden_reason"]
        == "the terms of vendor-b hold it to no KPI"
    )


def test_in_house_loaded_cost_bills_quiet_hours_too(warehouse: Any) -> None:
    row = _settlement(warehouse, "vr")[("in-house", date(2026, 1, 1))]
    # Three agent quarter hours (two at 09:00 with calls, one at 09:15 without) at the loaded 37.98 an hour.
    assert row["billed_amount"] == pytest.approx(0.75 * HOURLY)
    assert row["cost_per_contact"] == pytest.approx(0.75 * HOURLY / 10)
    assert row["reconciliation_hidden_reason"] == ""


def test_virtualized_vendor_is_checked_against_the_enterprise_acd(warehouse: Any) -> None:
    jan = _settlement(warehouse, "vr")[("vendor-a", date(2026, 1, 1))]
    assert (jan["observed_contacts"], jan["reported_contacts"], jan["contacts_gap"]) == (96, None, None)
    assert jan["reconciliation_hidden_reason"].startswith("virtualized: ")


def test_enterprise_routed_vendor_reports_against_calls_sent_and_unseen_adherence(warehouse: Any) -> None:
    row = _settlement(warehouse, "er")[("vendor-r", date(2026, 1, 1))]
    # Its reports: 50 offered, 45 answered, 4 h on queue; it accepted 51 hand-offs (52 sent, 1 failed): one call
    # it took and does not report.
    assert (row["reported_offered"], row["reported_contacts"], row["reported_hours"]) == (50, 45, 4.0)
    assert (row["observed_contacts"], row["contacts_gap"], row["observed_hours"]) == (51, -1, None)
    assert row["reconciliation_hidden_reason"].startswith(
        "enterprise-routed: the hand-offs the vendor accepted"
    )
    # Service level 40 / 50 = 0.80 meets its target; adherence cannot be assessed: its agents are not seen.
    assert (row["service_level"], row["kpis_assessed"], row["kpis_missed"], row["verdict"]) == (
        0.8,
        1,
        0,
        "on track",
    )
    assert row["unassessed"] == (
        "adherence: enterprise_routed: vendor-r reports its agents' time on queue, not their schedules"
    )
    assert row["adherence"] is None


def test_terms_that_cannot_be_priced_are_refused() -> None:
    with pytest.raises(ValueError, match="anchored cost model needs"):
        SourceTerms(cost_model="anchored")
    with pytest.raises(ValueError, match=r"penalty tier.s bound 0\.85 is better than the target"):
        SourceTerms(kpis={"service_level": {"target": 0.8, "penalties": [{"bound": 0.85, "share": 0.1}]}})
    with pytest.raises(ValueError, match="either rate or loaded_cost"):
        SourceTerms(rate=20.0, loaded_cost=LOADED)
    assert SourceTerms(loaded_cost=LOADED).rate == pytest.approx(HOURLY)


def test_the_dashboard_shows_the_layers_settlement_rounded(warehouse: Any) -> None:
    result = run(warehouse, "settlement", {"tenant": "vr", **WINDOW})
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    may = next(r for r in rows if r["source"] == "vendor-a" and r["period_start"] == date(2026, 5, 1))
    assert (may["billed"], may["earn_back"], may["invoice"], may["cost_per_contact"], may["verdict"]) == (
        392.0,
        45.6,
        437.6,
        4.47,
        "on track",
    )
    # Periods in order, the in-house center first in each.
    assert [(r["period_start"].month, r["source"]) for r in rows][:3] == [
        (1, "in-house"),
        (1, "vendor-a"),
        (1, "vendor-b"),
    ]


def test_weekly_periods_bill_seat_and_productive_hours_of_quiet_intervals(warehouse: Any) -> None:
    """No calls at all: the hours alone are billed, each in its Monday-to-Sunday week."""
    rows = _settlement(warehouse, "wk")
    week_1, week_2 = date(2026, 1, 5), date(2026, 1, 12)
    # Seats: 2 contracted x 0.25 h open x 20.00, twice in the first week (Monday and Sunday), once in the second.
    assert rows[("vendor-s", week_1)]["billed_amount"] == 20.0
    assert rows[("vendor-s", week_2)]["billed_amount"] == 10.0
    assert rows[("vendor-s", week_1)]["period_end"] == date(2026, 1, 12)
    # Productive hours: 0.25 h on queue x 30.00, then 0.5 h.
    assert (rows[("vendor-p", week_1)]["billed_amount"], rows[("vendor-p", week_2)]["billed_amount"]) == (
        7.5,
        15.0,
    )
    # No contact to divide by: no cost per contact (NULL), and no KPI to judge.
    assert rows[("vendor-p", week_1)]["cost_per_contact"] is None
    assert rows[("vendor-p", week_1)]["verdict_hidden_reason"] == "the terms of vendor-p hold it to no KPI"
