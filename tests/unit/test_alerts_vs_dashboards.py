"""The alert stage against the dashboards, on the embedded demo's nine setups (the bank tenant's rules): every
transition the engine made is the one the SQL figures imply, read back with the project's own definitions
(`source_interval`: service level, breach streak, abandonment) and the overflow counters summed over
partitions, and run through the rules by a small reader here. Nothing fires that the dashboards do not show,
and nothing the dashboards show is missed."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from acdscope.dashboards import run
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
    return out | expected_oldest_waits(client)


def expected_oldest_waits(client: Any) -> set[Transition]:
    """The oldest-wait rule from the raw events (`acd_events` payloads, read here with orjson): a leg waits
    from its queued event until it is answered, abandoned, overflowed or redirected with an accepted hand-off;
    at every interval end from the source's first queued leg to its last event, the longest wait of those
    waiting. Judged where the setup shows the queue (not a network-delivered or enterprise-routed vendor)."""
    rules = demo_tenant().alerts
    assert rules.oldest_wait is not None
    width = 15 * 60_000
    legs: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(
        dict
    )  # (tenant, source) -> leg -> [in, out]
    last_ms: dict[str, int] = {}
    for tenant, kind, payload in client.query(
        "select tenant, type, payload from acd_events where startsWith(type, 'contact.') order by topic, stream_offset"
    ).result_rows:
        event = orjson.loads(payload)
        at = int(datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp() * 1000)
        last_ms[tenant] = max(last_ms.get(tenant, 0), at)
        source_legs = legs[(tenant, event["source"])]
        if kind == "contact.queued":
            source_legs[event["contact_id"]] = [at, 2**62]
        elif kind in ("contact.answered", "contact.abandoned", "contact.overflowed") or (
            kind == "contact.redirected" and event["handoff"] == "accepted"
        ):
            leg = source_legs.get(event["contact_id"])
            if leg is not None and leg[1] == 2**62:
                leg[1] = at
    out: set[Transition] = set()
    for (tenant, source), waits in legs.items():
        if source != "in-house" and tenant.startswith(("network-delivered", "enterprise-routed")):
            continue
        if not waits:
            continue
        first = min(leg[0] for leg in waits.values()) // width * width
        open_now = False
        for start in range(first, last_ms[tenant] // width * width, width):
            end = start + width
            waiting = [queued for queued, left in waits.values() if queued <= end < left]
            over = bool(waiting) and (end - min(waiting)) / 1000 > rules.oldest_wait.above_s
            if over != open_now:
                open_now = over
                at = datetime.fromtimestamp(start / 1000, tz=UTC).isoformat()
                out.add((tenant, "oldest_wait", source, "fired" if over else "resolved", at))
    return out


def test_every_transition_is_what_the_dashboards_show(warehouse: Any) -> None:
    made = {
        (tenant, rule, source, transition, start.isoformat())
        for tenant, rule, source, transition, start in warehouse.query(
            "select tenant, rule, source, transition, interval_start from alerts final"
            " where rule != 'severe_adherence'"  # the RTA board's, not a dashboard's (tests/unit/test_alerts.py)
        ).result_rows
    }
    expected = expected_transitions(warehouse)
    assert made == expected
    rules = {rule for _, rule, *_ in made}
    # The tight scenario gives every interval rule something to do, in more than one setup.
    assert {"service_level", "abandonment", "overflow", "oldest_wait"} <= rules
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
    assert Path("tenants/bank.toml").read_text().count("[alerts.") == 6


def test_the_alerts_dashboard_lists_each_alert_once_with_its_status_as_of_until(warehouse: Any) -> None:
    """`alerts`: one row per alert open at some moment of the window; open means fired by `until` and not
    resolved by then, whatever happens after."""
    tenant = "virtualized-shared"
    transitions = warehouse.query(
        "select alert_id, transition, decided_at from alerts final where tenant = {t:String}",
        parameters={"t": tenant},
    ).result_rows
    fired = {alert_id: at for alert_id, transition, at in transitions if transition == "fired"}
    resolved = {alert_id: at for alert_id, transition, at in transitions if transition == "resolved"}
    assert fired
    day = {"tenant": tenant, "from": datetime(2026, 1, 5), "until": datetime(2026, 1, 6)}
    rows = run(warehouse, "alerts", day)
    at = rows.columns.index
    assert sorted(row[at("alert_id")] for row in rows.rows) == sorted(fired)
    assert {row[at("alert_id")]: row[at("status")] for row in rows.rows} == {
        alert_id: "resolved" if alert_id in resolved else "open" for alert_id in fired
    }
    # As of a moment between an alert's firing and its resolution, it is open; one resolved before `from` is gone.
    alert_id = next(a for a in fired if a in resolved and resolved[a] > fired[a])
    moment = fired[alert_id].replace(tzinfo=None)
    window = {"tenant": tenant, "from": moment, "until": moment}
    listed = {row[at("alert_id")]: row[at("status")] for row in run(warehouse, "alerts", window).rows}
    assert listed[alert_id] == "open"
    assert set(listed) == {
        a
        for a in fired
        if fired[a] <= fired[alert_id] and (a not in resolved or resolved[a] >= fired[alert_id])
    }
