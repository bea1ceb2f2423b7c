"""The alert stage against the dashboards, on the embedded demo's nine setups (the bank tenant's rules): every
transition the engine made is the one the SQL figures imply, read back with the project's own definitions
(`source_interval`: service level, breach streak, abandonment) and the overflow counters summed over
partitions, and run through the rules by a small reader here. Nothing fires that the dashboards do not show,
and nothing the dashboards show is missed."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from acdscope.demo import demo_tenant
from acdscope.demo import run_demo
from producers.simulator.scenario import scenario_from_dict
from streams.warehouse.client import connect

# Short of agents at the peak, so that every rule has something to say.
TIGHT = scenario_from_dict(
    {
        "name": "tight",
        "call_types": [{"name": "billing", "daily_volume": 900}, {"name": "sales", "daily_volume": 300}],
        "in_house": {"id": "in-house", "agents": 14, "teams": 2},
        "vendors": [{"id": "vendor-a", "agents": 5, "teams": 1}],
    }
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("alerts") / "chdb"
    run_demo(directory, TIGHT)
    client = connect(f"chdb://{directory.resolve()}")
    yield client
    client.close()


Transition = tuple[str, str, str, str, str]  # tenant, rule, source, transition, interval start


def expected_transitions(client: Any) -> set[Transition]:
    rules = demo_tenant().alerts
    assert rules.service_level
    assert rules.abandonment
    assert rules.overflow
    assert rules.chronic
    out: set[Transition] = set()
    intervals = client.query(
        "select tenant, source, interval_start, offered, abandoned, service_level, sla_target, streak, chronic_after"
        " from source_interval where kind != '' and offered > 0 order by tenant, source, interval_start"
    ).result_rows
    by_source: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for row in intervals:
        by_source[(row[0], row[1])].append(row)
    for (tenant, source), series in by_source.items():
        open_rules: dict[str, bool] = {}
        for _, _, start, offered, abandoned, level, target, streak, chronic_after in series:
            at = start.isoformat()
            if level is not None:
                for rule, length in (
                    ("service_level", rules.service_level.intervals),
                    ("chronic_intervals", chronic_after),
                ):
                    if not open_rules.get(rule) and streak >= length:
                        open_rules[rule] = True
                        out.add((tenant, rule, source, "fired", at))
                    elif open_rules.get(rule) and level >= target:
                        open_rules[rule] = False
                        out.add((tenant, rule, source, "resolved", at))
            if offered >= rules.abandonment.min_calls:
                over = abandoned / offered > rules.abandonment.above
                if over != open_rules.get("abandonment", False):
                    open_rules["abandonment"] = over
                    out.add((tenant, "abandonment", source, "fired" if over else "resolved", at))
    flows = client.query(
        "select tenant, primary_source, interval_start, sum(arrived), sum(overflowed_timeout)"
        " from overflow_interval final group by all having sum(arrived) > 0 order by all"
    ).result_rows
    overflowing: dict[tuple[str, str], bool] = {}
    for tenant, source, start, arrived, after_wait in flows:
        if after_wait is None or arrived < rules.overflow.min_calls:
            continue
        over = after_wait / arrived > rules.overflow.above
        if over != overflowing.get((tenant, source), False):
            overflowing[(tenant, source)] = over
            out.add((tenant, "overflow", source, "fired" if over else "resolved", start.isoformat()))
    return out


def test_every_transition_is_what_the_dashboards_show(warehouse: Any) -> None:
    made = {
        (tenant, rule, source, transition, start.isoformat())
        for tenant, rule, source, transition, start in warehouse.query(
            "select tenant, rule, source, transition, interval_start from alerts final"
        ).result_rows
    }
    expected = expected_transitions(warehouse)
    assert made == expected
    rules = {rule for _, rule, *_ in made}
    # The tight scenario gives every interval rule something to do, in more than one setup.
    assert {"service_level", "abandonment", "overflow"} <= rules
    assert len({tenant for tenant, *_ in made}) >= 6


def test_each_alert_fires_once_and_resolves_at_most_once_after_it(warehouse: Any) -> None:
    rows = warehouse.query(
        "select alert_id, groupArray(transition), groupArray(decided_at), any(idempotency_key) from"
        " (select * from alerts final order by transition) group by tenant, alert_id"
    ).result_rows
    assert rows
    for alert_id, transitions, decided, _ in rows:
        assert transitions in (["fired"], ["fired", "resolved"]), alert_id
        if len(decided) == 2:
            assert decided[0] < decided[1]
    keys = warehouse.query("select count(), uniqExact(idempotency_key) from alerts final").result_rows[0]
    assert keys[0] == keys[1]


def test_not_observable_means_no_judgement(warehouse: Any) -> None:
    """Network-delivered: the carrier's overflow is not seen, so no overflow alert is ever made there."""
    assert (
        warehouse.query(
            "select count() from alerts final where rule = 'overflow' and startsWith(tenant, 'network-delivered')"
        ).result_rows[0][0]
        == 0
    )


def test_the_tenant_file_declares_the_rules() -> None:
    rules = demo_tenant().alerts
    assert rules.service_level is not None
    assert rules.service_level.intervals == 2
    assert rules.abandonment is not None
    assert rules.abandonment.above == 0.08
    assert Path("tenants/bank.toml").read_text().count("[alerts.") == 4
