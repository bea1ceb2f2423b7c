"""The cost and SLA-streak dashboards on hand-made counters, with every expected number worked out by hand."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from acdscope.dashboards import run
from streams.engine.adherence import AdherenceRow
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.engine.overflow import OverflowRow
from streams.engine.overflow import OverflowTargetRow
from streams.engine.quality import QualityRow
from streams.engine.repeats import RepeatRow
from streams.warehouse.migrations import migrate
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.tables import TABLES
from streams.warehouse.terms import load_terms
from tests.support.warehouse import THRESHOLDS
from tests.support.warehouse import quality_row

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def quality(
    tenant: str, source: str, slot: int, offered: int, within_20s: int, handled: int, partition: int = 0
) -> QualityRow:
    return quality_row(
        tenant, source, T0 + timedelta(minutes=15 * slot), stream_partition=partition, offered=offered,
        answered=handled, abandoned=offered - handled, answered_within=[0, within_20s, handled, handled],
        handled=handled, handle_ms=handled * 300_000, version=10 + slot,
    )  # fmt: skip


def overflow(
    tenant: str, slot: int, arrived: int, split: int | None
) -> tuple[OverflowRow, OverflowTargetRow | None]:
    start = T0 + timedelta(minutes=15 * slot)
    hidden = split is None
    row = OverflowRow(
        tenant, "in-house", "billing", start, 15, 0, arrived,
        None if hidden else split, None if hidden else 0, None if hidden else split, None if hidden else 0,
        None if hidden else 0, None if hidden else split, None if hidden else 0, None if hidden else 0,
        THRESHOLDS, 0, [0, 0, 0, 0], 0, 0, 0, "network-delivered: the carrier splits" if hidden else "", 1, 1,
    )  # fmt: skip
    target = (
        None
        if hidden
        else OverflowTargetRow(tenant, "in-house", "vendor-a", start, 15, 0, "split", split, 1, 1)
    )
    return row, target


def rostered(tenant: str, source: str, agent: str, slot: int, ms: int) -> AdherenceRow:
    return AdherenceRow(
        T0 + timedelta(minutes=15 * slot), tenant, source, "team", agent, 0, ms, 0, ms, 0, 0, 0, ms, ms, 0, 1
    )


@pytest.fixture
def loaded(clickhouse_db):
    _, client = clickhouse_db
    migrate(client)
    config = EngineConfig(
        tenants={
            "t": TenantConfig(
                setup="virtualized",
                sources={
                    "in-house": SourceTerms(
                        cost_model="loaded_hourly", rate=40.0, sla_target=0.8, chronic_after=2
                    ),
                    "vendor-a": SourceTerms(
                        cost_model="per_contact",
                        rate=5.0,
                        sla_target=0.8,
                        sla_credit=0.1,
                        chronic_after=2,
                        contracted_share=0.5,
                    ),
                },
            ),
            "er": TenantConfig(
                setup="enterprise_routed",
                sources={"vendor-a": SourceTerms(cost_model="per_agent_hour", rate=30.0)},
            ),
            "fo": TenantConfig(setup="virtualized", sources={"in-house": SourceTerms(sla_target=0.8)}),
            "nd": TenantConfig(
                setup="network_delivered",
                sources={"vendor-a": SourceTerms(contracted_share=0.5)},
                call_types={"billing": "Billing questions (IVR 1)"},
            ),
        }
    )
    assert load_terms(client, config) == 5
    write = clickhouse_writer(client)
    rows = [
        quality("t", "vendor-a", 0, 10, 9, 9),
        quality("t", "vendor-a", 1, 6, 4, 4),  # interval 1 arrives on two partitions: 10 offered, 7 in SLA
        quality("t", "vendor-a", 1, 4, 3, 3, partition=1),
        quality("t", "vendor-a", 2, 10, 6, 6),
        quality("t", "vendor-a", 3, 10, 9, 9),
        quality("t", "in-house", 0, 20, 18, 20),
        quality("er", "vendor-a", 0, 10, 9, 9),
        # 20 calls: 12 answered within 20 s, 14 answered, 5 flowed out to a vendor; 3 tier-2 legs came in.
        quality("fo", "in-house", 0, 20, 12, 14)._replace(
            abandoned=1,
            short_abandoned=1,
            abandoned_within=[1, 1, 1, 1],
            overflowed_out=5,
            transferred_in=3,
            wait_answered_ms=14 * 8000,
            transferred=2,
            qa_sum=171.0,
            qa_count=2,
            csat_sum=13,
            csat_count=3,
        ),
    ]
    write("quality_interval", TABLES["quality_interval"].columns, rows)
    # In-house: 18 of its 20 first calls not repeated; vendor-a has no repeat data (FCR not observable).
    repeats = [RepeatRow("t", "in-house", "billing", T0, 15, 0, 20, 2, 24, 0, 1)]
    write("repeat_interval", TABLES["repeat_interval"].columns, repeats)
    staff = [rostered("t", "in-house", f"a{i}", 0, 900_000) for i in range(10)]  # 10 agents x 15 min = 2.5 h
    # One "fo" agent: 15 min scheduled, 90 s of it an exception; 800 s scheduled on queue, 720 s worked on
    # queue, 540 s of it on contacts or in wrap-up.
    staff.append(
        AdherenceRow(T0, "fo", "in-house", "team", "b1", 0, 900_000, 90_000, 810_000, 90_000, 0, 0, 800_000,
                     720_000, 540_000, 1)
    )  # fmt: skip
    write("adherence_interval", TABLES["adherence_interval"].columns, staff)
    split = [
        overflow("t", 0, arrived=60, split=27),  # 100 calls arrived, 45 split to vendor-a: 45 % vs 50 %
        overflow("t", 1, arrived=40, split=18),
        overflow("nd", 0, arrived=50, split=None),
    ]
    write("overflow_interval", TABLES["overflow_interval"].columns, [row for row, _ in split])
    targets = [target for _, target in split if target is not None]
    write("overflow_target_interval", TABLES["overflow_target_interval"].columns, targets)
    return client


PARAMS = {"from": T0, "until": T0 + timedelta(hours=2)}


def test_sla_streaks_count_consecutive_breaches_and_flag_chronic(loaded) -> None:
    result = run(loaded, "sla_streaks", {"tenant": "t", **PARAMS})
    vendor = [dict(zip(result.columns, row, strict=True)) for row in result.rows if row[1] == "vendor-a"]
    assert [r["offered"] for r in vendor] == [10, 10, 10, 10]
    assert [r["service_level"] for r in vendor] == [0.9, 0.7, 0.6, 0.9]
    assert [r["breached"] for r in vendor] == [0, 1, 1, 0]
    assert [r["streak"] for r in vendor] == [0, 1, 2, 0]
    assert [r["chronic"] for r in vendor] == [0, 0, 1, 0]


def test_cost_per_contact_after_sla_credits(loaded) -> None:
    result = run(loaded, "source_cost", {"tenant": "t", **PARAMS})
    rows = {(row[1], row[2]): dict(zip(result.columns, row, strict=True)) for row in result.rows}
    vendor = [rows[("vendor-a", T0 + timedelta(minutes=15 * slot))] for slot in range(4)]
    # per contact 5.00: 9 / 7 / 6 / 9 handled; intervals 1 and 2 missed 80 % in 20 s: 10 % credit.
    assert [r["gross_cost"] for r in vendor] == [45.0, 35.0, 30.0, 45.0]
    assert [r["sla_credit_amount"] for r in vendor] == [0.0, 3.5, 3.0, 0.0]
    assert [r["net_cost"] for r in vendor] == [45.0, 31.5, 27.0, 45.0]
    assert [r["cost_per_contact"] for r in vendor] == [5.0, 4.5, 4.5, 5.0]
    in_house = rows[("in-house", T0)]
    # 40.00 per rostered hour x 2.5 h = 100.00 over 20 handled contacts.
    assert in_house["gross_cost"] == 100.0
    assert in_house["cost_per_contact"] == 5.0
    assert in_house["hidden_reason"] == ""


def test_per_agent_hour_cost_of_an_unseen_vendor_is_null_with_a_reason(loaded) -> None:
    result = run(loaded, "source_cost", {"tenant": "er", **PARAMS})
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert row["gross_cost"] is None
    assert row["cost_per_contact"] is None
    assert "not observable" in row["hidden_reason"]
    assert row["handled"] == 9


def test_daily_streaks_flag_chronic_days(loaded) -> None:
    result = run(loaded, "sla_streaks_daily", {"tenant": "t", **PARAMS})
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    vendor = next(r for r in rows if r["source"] == "vendor-a")
    # The day's SL from summed counters: (9 + 7 + 6 + 9) / 40 = 0.775 < 0.8, not the mean of interval SLs.
    assert vendor["offered"] == 40
    assert vendor["service_level"] == 0.775
    assert (vendor["breached"], vendor["streak_days"], vendor["chronic"]) == (1, 1, 0)


def test_split_drift_against_the_contracted_share(loaded) -> None:
    result = run(loaded, "split_drift", {"tenant": "t", **PARAMS})
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert (row["arrived"], row["sent_by_split"]) == (100, 45)
    assert (row["actual_share"], row["contracted_share"], row["drift"]) == (0.45, 0.5, -0.05)
    hidden = run(loaded, "split_drift", {"tenant": "nd", **PARAMS})
    (nd,) = [dict(zip(hidden.columns, r, strict=True)) for r in hidden.rows]
    assert nd["actual_share"] is None
    assert nd["drift"] is None
    assert "carrier" in nd["hidden_reason"]


def test_vendor_scorecard_on_hand_made_counters(loaded) -> None:
    result = run(loaded, "vendor_scorecard", {"tenant": "t", **PARAMS})
    rows = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    vendor, in_house = rows["vendor-a"], rows["in-house"]
    # vendor-a: 40 offered, 31 answered within 20 s, 31 handled of 300 s each; intervals 1 and 2 breached.
    assert vendor["offered"] == 40
    assert vendor["sl_abandons_against"] == 0.775
    assert vendor["intervals_breached"] == 2
    assert vendor["aht_s"] == 300.0
    assert vendor["abandon_rate"] == round(9 / 40, 4)
    # 4 x 5.00 per contact, credits 3.50 + 3.00 on 31 handled: (155 - 6.5) / 31.
    assert vendor["cost_per_contact"] == round((155 - 6.5) / 31, 2)
    # in-house: 20 offered, 18 in 20 s; 2.5 rostered hours at 40.00 = 100.00 for 20 handled; no exceptions.
    assert in_house["sl_abandons_against"] == 0.9
    assert in_house["cost_per_contact"] == 5.0
    assert in_house["adherence"] == 1.0
    assert vendor["adherence"] is None  # no agent data for vendor-a: not observable, not 100 %


def test_every_scorecard_figure_on_hand_made_non_zero_counters(loaded) -> None:
    """20 calls: 14 answered (12 within 20 s, 8 s average wait), 1 abandoned within 20 s and short, 5 flowed
    out to a vendor; 2 of the 14 transferred, 3 tier-2 legs came in; QA 171 over 2, CSAT 13 over 3."""
    result = run(loaded, "vendor_scorecard", {"tenant": "fo", **PARAMS})
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert (row["offered"], row["transferred_in"]) == (20, 3)
    assert row["sl_abandons_against"] == 0.6  # 12 / 20
    assert row["sl_abandons_ignored"] == round(12 / 19, 4)  # the abandon within 20 s leaves the denominator
    assert row["sl_abandons_in_favour"] == 0.65  # (12 + 1) / 20
    assert row["sl_short_excluded"] == round(12 / 19, 4)
    assert row["sl_flowouts_excluded"] == 0.8  # 12 / (20 - 5): the 5 handed to a vendor leave the denominator
    assert (row["abandon_rate"], row["abandon_rate_excl_short"]) == (0.05, 0.0)  # 1/20; (1 - 1)/(20 - 1)
    assert (row["asa_s"], row["aht_s"]) == (8.0, 300.0)
    assert row["transfer_rate"] == round(2 / 14, 4)
    assert (row["qa_score"], row["csat"]) == (85.5, 4.33)
    # The agent: adherence 1 - 90/900, conformance 720/800, occupancy 540/720, utilisation 540/900,
    # shrinkage 1 - 720/900.
    assert (row["adherence"], row["conformance"]) == (0.9, 0.9)
    assert (row["occupancy"], row["utilisation"], row["shrinkage"]) == (0.75, 0.6, 0.2)
    assert row["fcr_proxy"] is None  # no repeat data: not observable, not 1


def test_end_to_end_service_level_is_null_where_the_carrier_hides_calls(loaded) -> None:
    """Regression: network-delivered showed the in-house calls' service level under the end-to-end label."""
    result = run(loaded, "overflow_trend", {"tenant": "nd", **PARAMS})
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert row["arrived"] == 50
    assert row["e2e_sl_20s"] is None
    assert "carrier" in row["hidden_reason"]


def test_staffing_of_a_vendor_whose_agents_are_hidden_is_null_with_a_reason(loaded) -> None:
    result = run(loaded, "staffing_interval", {"tenant": "er", **PARAMS})
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert (row["source"], row["offered"]) == ("vendor-a", 10)
    assert (row["staffed_agents"], row["occupancy"], row["over_under_agents"]) == (None, None, None)
    assert "not seen" in row["staffing_hidden_reason"]
    # What its calls need is known from them: 10 calls of 300 s in 15 minutes (3.33 Erlangs), 80 % in 20 s:
    # 5 agents answer 71 %, 6 agents 88 %.
    assert row["required_agents"] == 6


def test_staffing_of_the_in_house_center_from_its_agent_time(loaded) -> None:
    result = run(loaded, "staffing_interval", {"tenant": "t", **PARAMS})
    rows = {(r[0], r[1]): dict(zip(result.columns, r, strict=True)) for r in result.rows}
    in_house = rows[("in-house", T0)]
    # 10 agents on queue the whole 15 minutes, no handling time recorded in the hand-made rows.
    assert (in_house["staffed_agents"], in_house["occupancy"], in_house["shrinkage"]) == (10.0, 0.0, 0.0)
    # 20 calls of 300 s in 15 minutes = 6.67 Erlangs: 9 agents answer 73 % in 20 s, 10 agents 86 %: 10 needed.
    assert (in_house["required_agents"], in_house["over_under_agents"]) == (10, 0.0)


def test_value_ranking_keeps_an_unobservable_input_null_and_says_so(loaded) -> None:
    """Regression: a missing FCR proxy was taken as 1.0, ranking the least visible source best."""
    result = run(loaded, "value_ranking", {"tenant": "t", **PARAMS})
    rows = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    # in-house: SL 18/20 = 0.9, FCR 1 - 2/20 = 0.9, 5.00 per contact -> 0.9 x 0.9 / 5 = 0.162.
    assert rows["in-house"]["fcr_proxy"] == 0.9
    assert rows["in-house"]["value"] == round(0.9 * 0.9 / 5.0, 4)
    assert (rows["in-house"]["value_rank"], rows["in-house"]["missing_inputs"]) == (1, "")
    # vendor-a: SL 0.775 at 4.79 per contact, but no repeat data: FCR, value and rank NULL, and the reason.
    vendor = rows["vendor-a"]
    assert vendor["service_level"] == 0.775
    assert (vendor["fcr_proxy"], vendor["value"], vendor["value_rank"]) == (None, None, None)
    assert vendor["missing_inputs"] == "fcr_proxy"
    assert "suggested_share" not in result.columns  # capacity-blind: removed


def test_overflow_trend_per_interval_and_hidden_routing(loaded) -> None:
    result = run(loaded, "overflow_trend", {"tenant": "t", **PARAMS})
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert [(r["arrived"], r["overflowed"], r["overflow_rate"]) for r in rows] == [
        (60, 27, 0.45),
        (40, 18, 0.45),
    ]
    assert [r["by_split"] for r in rows] == [27, 18]
    hidden = run(loaded, "overflow_trend", {"tenant": "nd", **PARAMS})
    (nd,) = [dict(zip(hidden.columns, row, strict=True)) for row in hidden.rows]
    assert nd["overflowed"] is None
    assert nd["overflow_rate"] is None
    assert "carrier" in nd["hidden_reason"]


def test_rta_board_lists_who_is_out_now(loaded) -> None:
    from streams.warehouse.tables import LiveRow

    as_of = T0 + timedelta(hours=1)
    board = [
        LiveRow("t", "a1", "in-house", "team", 1, T0 + timedelta(minutes=40), 20 * 60_000, 1, "on_queue",
                "not_ready", "negative", as_of, 5),
        LiveRow("t", "a2", "in-house", "team", 1, T0 + timedelta(minutes=58), 2 * 60_000, 0, "break",
                "ready", "positive", as_of, 5),
        LiveRow("t", "a3", "in-house", "team", 0, None, 0, 0, "", "", "", as_of, 5),
    ]  # fmt: skip
    clickhouse_writer(loaded)("adherence_live", TABLES["adherence_live"].columns, board)
    result = run(loaded, "rta_board", {"tenant": "t", "min_duration_s": 0})
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert [(r["agent_id"], r["minutes_out"], r["severe"], r["impact"]) for r in rows] == [
        ("a1", 20.0, 1, "negative"),
        ("a2", 2.0, 0, "positive"),
    ]
    longer = run(loaded, "rta_board", {"tenant": "t", "min_duration_s": 300})
    assert [row[0] for row in longer.rows] == ["a1"]


def test_call_types_dimension_is_loaded(loaded) -> None:
    rows = loaded.query("select tenant, call_type, label from call_type_dim final").result_rows
    assert rows == [("nd", "billing", "Billing questions (IVR 1)")]
