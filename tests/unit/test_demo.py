"""The embedded default end to end: nine scenarios -> engine -> in-process chDB -> the comparison dashboard,
checked against the simulator's truth and the visibility rules of each setup."""

from __future__ import annotations

from pathlib import Path

from acdscope.demo import run_demo
from producers.simulator.scenario import scenario_from_dict

SMALL = scenario_from_dict(
    {
        "name": "demo",
        "call_types": [{"name": "billing", "daily_volume": 500}, {"name": "sales", "daily_volume": 200}],
        "in_house": {"id": "in-house", "agents": 20, "teams": 2},
        "vendors": [{"id": "vendor-a", "agents": 10, "teams": 1}],
    }
)


def test_embedded_demo_compares_the_nine_scenarios_with_their_visibility(tmp_path: Path) -> None:
    outcome = run_demo(tmp_path / "chdb", SMALL)
    rows = {
        row[0]: dict(zip(outcome.comparison.columns, row, strict=True)) for row in outcome.comparison.rows
    }
    assert len(rows) == 9
    assert [r["setup"] for r in rows.values()][:3] == ["network_delivered"] * 3
    # The warehouse holds exactly the in-house queue volume the simulator produced, scenario by scenario.
    assert {
        name: row["in_house_offered"] or 0 for name, row in rows.items()
    } == outcome.truth_in_house_offered
    nd, er, v = rows["network-delivered-shared"], rows["enterprise-routed-shared"], rows["virtualized-shared"]
    # Network-delivered: the carrier's routing is not observable; the vendor is seen through its reports only.
    assert nd["overflow_rate"] is None
    assert nd["vendor_offered"] is not None
    assert nd["vendor_asa_s"] is None
    # Enterprise-routed: redirects are seen, what happens at the vendor is not.
    assert er["overflow_rate"] is not None
    assert er["e2e_sl_20s"] is None
    assert er["vendor_adherence"] is None
    # Virtualized: everything, vendor adherence included.
    assert v["e2e_sl_20s"] is not None
    assert v["vendor_asa_s"] is not None
    assert 0 < v["vendor_adherence"] <= 1
    # Same demand everywhere: the calls that reach the ACD agree across enterprise-routed and virtualized.
    assert er["arrived_at_acd"] == v["arrived_at_acd"]
    # Settlement, billing month to date: where the ACD redirects (enterprise-routed), the hand-offs the vendor
    # accepted equal the calls its own reports say it was offered (the simulator writes those reports from its
    # own queue, the engine counts the redirects from the enterprise's events: two independent counts).
    settled = [dict(zip(outcome.settlement.columns, row, strict=True)) for row in outcome.settlement.rows]
    vendors = {row["tenant"]: row for row in settled if row["source"] == "vendor-a"}
    assert len(vendors) == 9
    for tenant, row in vendors.items():
        assert row["billed"] is not None, tenant
        assert row["invoice"] is not None, tenant
        if tenant.startswith("enterprise-routed"):
            assert row["reported_contacts"] <= row["observed_contacts"], tenant
            assert row["contacts_gap"] == 0, tenant
        else:
            assert row["contacts_gap"] is None, tenant
            assert row["reconciliation_hidden_reason"], tenant
        # Network-delivered and enterprise-routed vendors' adherence is not seen: named, moving no money.
        if not tenant.startswith("virtualized"):
            assert row["adherence"] is None, tenant
            assert "adherence: " in row["unassessed"], tenant
