"""The simulator: what each setup lets the enterprise see, paired demand, valid and ordered events, and a truth
that agrees with itself. Checked against the simulator's own records, not against the engine."""

from __future__ import annotations

from collections import Counter
from collections import defaultdict
from datetime import UTC
from datetime import datetime
from functools import cache

import pytest

from producers.simulator.output import MemorySink
from producers.simulator.output import flat_columns_cover_the_contract
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder
from streams.events import event_key
from tests.support.expected import on_queue_by_interval

BASE = scenario_from_dict(
    {
        "name": "small",
        "call_types": [
            {"name": "billing", "daily_volume": 900},
            {"name": "sales", "daily_volume": 400, "handle": {"talk_mean_s": 280}},
        ],
        # Staffed like the default bank (78 agents for 4,000 calls), so that overflow sends the vendor real calls.
        "in_house": {"id": "in-house", "agents": 24, "teams": 4},
        "vendors": [{"id": "vendor-a", "agents": 20, "teams": 2, "aht_multiplier": 1.1}],
    }
)


@cache
def run(setup: str, engagement: str) -> tuple[MemorySink, TruthRecorder, Scenario]:
    scenario = variant(BASE, setup, engagement)  # type: ignore[arg-type]
    sink, truth = simulate_in_memory(scenario)
    return sink, truth, scenario


def _sources(sink: MemorySink, prefix: str) -> set[str]:
    return {row["source"] for row in sink.dicts if row["type"].startswith(prefix)}


def test_network_delivered_shows_only_in_house_calls_and_vendor_reports() -> None:
    sink, truth, _ = run("network_delivered", "shared")
    assert _sources(sink, "contact.") == {"in-house"}
    assert _sources(sink, "agent.") == {"in-house"}
    assert _sources(sink, "vendor.") == {"vendor-a"}
    types = Counter(row["type"] for row in sink.dicts)
    assert types["contact.overflowed"] == types["contact.redirected"] == 0
    # The vendor really did answer calls; the enterprise just cannot see them.
    assert any(leg.source == "vendor-a" and leg.outcome == "answered" for leg in truth.legs)


def test_enterprise_routed_shows_redirects_but_no_vendor_agents_or_calls() -> None:
    sink, truth, _ = run("enterprise_routed", "shared")
    types = Counter(row["type"] for row in sink.dicts)
    assert types["contact.redirected"] == types["contact.overflowed"] > 0
    assert _sources(sink, "contact.") == {"in-house"}
    assert _sources(sink, "agent.") == {"in-house"}
    assert _sources(sink, "vendor.") == {"vendor-a"}
    handoffs = Counter(row["handoff"] for row in sink.dicts if row["type"] == "contact.redirected")
    truth_handoffs = Counter(leg.handoff for leg in truth.legs if leg.handoff)
    assert handoffs == truth_handoffs


def test_virtualized_shows_everyone_and_needs_no_vendor_reports() -> None:
    sink, _, _ = run("virtualized", "shared")
    assert _sources(sink, "contact.") == {"in-house", "vendor-a"}
    assert _sources(sink, "agent.") == {"in-house", "vendor-a"}
    assert _sources(sink, "schedule.") == {"in-house", "vendor-a"}
    assert not _sources(sink, "vendor.")
    assert not any(row["type"] == "contact.redirected" for row in sink.dicts)


def test_every_variant_faces_the_same_primary_demand() -> None:
    def primary(truth: TruthRecorder) -> list[tuple[str, int, str, str]]:
        return sorted(
            (leg.initial_contact_id.split("-")[-1], leg.arrived_ms, leg.call_type, leg.caller_hash)
            for leg in truth.legs
            if leg.leg_no == 1 and leg.repeat_of is None
        )

    reference = primary(run("enterprise_routed", "shared")[1])
    assert len(reference) > 1000
    for setup in ("network_delivered", "virtualized"):
        for engagement in ("targeted", "shared", "full"):
            assert primary(run(setup, engagement)[1]) == reference, (setup, engagement)


@pytest.mark.parametrize("setup", ["network_delivered", "enterprise_routed", "virtualized"])
def test_events_are_valid_ordered_and_keyed(setup: str) -> None:
    sink, _, _ = run(setup, "shared")
    events = list(sink.events())  # validates every row through the pydantic contract
    assert len(events) == len(sink.dicts)
    times = [row["ts"] for row in sink.dicts]
    assert times == sorted(times)
    assert len({event.event_id for event in events}) == len(events)
    # Per key, the contact lifecycle is in order: offered before answered before ended.
    order: dict[bytes, list[str]] = defaultdict(list)
    for event in events:
        order[event_key(event)].append(event.type)
    for types in order.values():
        if "contact.answered" in types and "contact.offered" in types:
            assert types.index("contact.offered") < types.index("contact.answered")
        if "contact.ended" in types:
            assert types.index("contact.answered") < types.index("contact.ended")


def test_same_seed_same_events_byte_for_byte() -> None:
    scenario = variant(BASE, "virtualized", "targeted")
    first, _ = simulate_in_memory(scenario)
    second, _ = simulate_in_memory(scenario)
    assert first.dicts == second.dicts


def test_caller_numbers_never_appear_only_keyed_hashes() -> None:
    sink, _, _ = run("virtualized", "shared")
    hashes = {row["caller_hash"] for row in sink.dicts if row.get("caller_hash")}
    assert hashes
    assert all(len(h) == 32 for h in hashes)
    assert not any("+1555" in str(value) for row in sink.dicts for value in row.values())
    other_key, _ = simulate_in_memory(variant(BASE, "virtualized", "shared"), caller_key=b"another key")
    assert hashes.isdisjoint({row["caller_hash"] for row in other_key.dicts if row.get("caller_hash")})


@pytest.mark.parametrize("setup", ["network_delivered", "enterprise_routed"])
def test_vendor_reports_add_up_to_the_vendor_legs(setup: str) -> None:
    sink, truth, _scenario = run(setup, "shared")
    reported = Counter()
    for row in sink.dicts:
        if row["type"] == "vendor.interval_report":
            reported["offered"] += row["offered"]
            reported["answered"] += row["answered"]
            reported["abandoned"] += row["abandoned"]
            reported["handled"] += row["handled"]
            reported["transferred"] += row["transferred"]
    legs = [leg for leg in truth.legs if leg.source == "vendor-a"]
    # Offered counts calls: a leg the vendor's own agents transferred on is the same call, handled twice.
    calls = [leg for leg in legs if leg.entry != "transfer"]
    assert reported["offered"] == len(calls) > 0
    assert reported["answered"] == sum(leg.outcome == "answered" for leg in calls)
    assert reported["abandoned"] == sum(leg.outcome == "abandoned" for leg in calls)
    assert reported["handled"] == sum(leg.outcome == "answered" for leg in legs)
    assert reported["transferred"] == sum(leg.transferred for leg in legs) > 0


_HANDLING = ("busy", "acw")


@pytest.mark.parametrize("setup", ["network_delivered", "enterprise_routed"])
@pytest.mark.parametrize("engagement", ["shared", "targeted"])
def test_vendor_reports_give_the_vendor_agents_time_on_queue(setup: str, engagement: str) -> None:
    """A report's staffed time is the vendor's agents' time on queue in its interval, from their own states; its
    call types' reports add up to it, and an interval its agents were on queue without calls is reported too."""
    sink, truth, scenario = run(setup, engagement)
    reports = [row for row in sink.dicts if row["type"] == "vendor.interval_report"]
    staffed: Counter[int] = Counter()
    for row in reports:
        staffed[row["interval_start"]] += row["staffed_ms"]
    on_queue = on_queue_by_interval(truth, "vendor-a", scenario.vendor_report_minutes * 60_000)
    assert len(on_queue) > 40
    assert {start: ms for start, ms in staffed.items() if ms} == on_queue
    assert any(row["offered"] == 0 and row["staffed_ms"] > 0 for row in reports)
    # Handling is time on queue: the reports' handle time is the agents' time on contacts and in wrap-up.
    handling = sum(
        s.end_ms - s.start_ms for s in truth.spans if s.source == "vendor-a" and s.state in _HANDLING
    )
    assert sum(row["handle_ms"] for row in reports) == handling < sum(staffed.values())


def test_each_customer_call_ends_exactly_once() -> None:
    _, truth, _ = run("virtualized", "shared")
    legs: dict[str, list] = defaultdict(list)
    for leg in truth.legs:
        legs[leg.initial_contact_id].append(leg)
    for chain in legs.values():
        chain.sort(key=lambda leg: leg.leg_no)
        finals = [leg for leg in chain if leg.outcome in ("answered", "abandoned") and not leg.transferred]
        assert len(finals) == 1, [(leg.outcome, leg.transferred) for leg in chain]
        for leg in chain[:-1]:
            assert leg.outcome == "overflowed" or leg.transferred


def test_overflow_happens_after_the_configured_wait() -> None:
    _, truth, scenario = run("enterprise_routed", "shared")
    timeouts = [
        leg for leg in truth.legs if leg.overflow_trigger == "timeout" and leg.outcome == "overflowed"
    ]
    assert timeouts
    assert {leg.wait_ms for leg in timeouts} == {int(scenario.engagement.overflow_after_s * 1000)}


def test_targeted_sends_exactly_the_chosen_call_type() -> None:
    _, truth, scenario = run("virtualized", "targeted")
    ((call_type, vendor),) = scenario.engagement.targeted.items()
    first_legs = [leg for leg in truth.legs if leg.leg_no == 1]
    assert {leg.overflow_to for leg in first_legs if leg.call_type == call_type} == {vendor}
    assert {leg.overflow_to for leg in first_legs if leg.call_type != call_type} == {None}


def test_adherence_behaviour_produces_real_deviations() -> None:
    _, truth, _ = run("virtualized", "shared")
    away = Counter(span.reason for span in truth.spans if span.state == "away")
    assert away["personal"] > 0
    assert away["break"] > 0
    assert away["lunch"] > 0
    # Some agents logged in after their shift started.
    first_login: dict[str, int] = {}
    for span in truth.spans:
        first_login[span.agent_id] = min(first_login.get(span.agent_id, span.start_ms), span.start_ms)
    shift_start: dict[str, int] = {}
    for activity in truth.schedules:
        shift_start[activity.agent_id] = min(
            shift_start.get(activity.agent_id, activity.start_ms), activity.start_ms
        )
    late = [agent for agent, start in shift_start.items() if first_login.get(agent, start) > start + 60_000]
    assert late


def test_the_flat_replay_schema_covers_every_event_field() -> None:
    assert flat_columns_cover_the_contract() == set()


@pytest.mark.parametrize("setup", ["virtualized", "enterprise_routed"])
def test_an_overflow_contract_hands_a_caller_over_only_when_a_vendor_agent_is_free(setup: str) -> None:
    """queue_limit 0: the enterprise's ACD looks ahead (virtualized) or the vendor's returns the call
    (enterprise-routed), so no overflowed caller ever waits in the vendor's queue; some stay in-house."""
    base = variant(BASE, setup, "shared")  # type: ignore[arg-type]
    vendor = base.vendors[0].model_copy(update={"queue_limit": 0, "agents": 2})
    scenario = base.model_copy(update={"vendors": (vendor,)})
    _, truth = simulate_in_memory(scenario)
    at_vendor = [leg for leg in truth.legs if leg.source == vendor.id and leg.entry == "overflow"]
    assert len(at_vendor) > 10
    assert all(leg.outcome == "answered" and leg.outcome_ms == leg.enqueued_ms for leg in at_vendor)
    timed_out = [leg for leg in truth.legs if leg.source == base.in_house.id and leg.outcome == "answered"]
    assert any((leg.wait_ms or 0) > 30_000 for leg in timed_out)  # kept in-house past the overflow time
    if setup == "enterprise_routed":
        assert any(leg.handoff == "returned" for leg in truth.legs)


def test_weekday_share_staffs_the_weekday_with_that_share_of_the_agents() -> None:
    """Friday 9 January 2026 with all 10 in-house agents, Saturday with 40 % of them (the first 4), Sunday none:
    counted from the schedules the simulator published, day by day."""
    scenario = scenario_from_dict(
        {
            "start_date": "2026-01-09",
            "days": 3,
            "customers": 500,
            "call_types": [{"name": "general", "daily_volume": 200}],
            "in_house": {
                "id": "in-house",
                "agents": 10,
                "teams": 2,
                "weekday_share": {"sat": 0.4, "sun": 0.0},
            },
        }
    )
    assert scenario.in_house.agents_on("fri") == 10
    _, truth = simulate_in_memory(scenario)
    agents: dict[str, set[str]] = {}
    for activity in truth.schedules:
        if activity.source == "in-house":
            day = datetime.fromtimestamp(activity.start_ms / 1000, tz=UTC).strftime("%a")
            agents.setdefault(day, set()).add(activity.agent_id)
    assert {day: len(ids) for day, ids in agents.items()} == {"Fri": 10, "Sat": 4}
    assert agents["Sat"] == {f"in-house-{n:04d}" for n in range(4)}


def test_a_fixed_roster_keeps_its_weekday_share_in_every_shift_pattern() -> None:
    """A fixed roster of 4 on 08:00 and 4 on 14:00: on a Saturday at 50 %, 2 of each work (its blocks stay in
    proportion), where a rotating one would keep the first 4 by number."""
    shifts = [
        {"start": "08:00:00", "hours": 4, "share": 0.5, "breaks": False},
        {"start": "14:00:00", "hours": 4, "share": 0.5, "breaks": False},
    ]
    scenario = scenario_from_dict(
        {
            "start_date": "2026-01-10",  # a Saturday
            "customers": 500,
            "call_types": [{"name": "general", "daily_volume": 100}],
            "in_house": {"id": "in-house", "agents": 8, "teams": 1, "shifts": shifts, "roster": "fixed",
                         "weekday_share": {"sat": 0.5}},
        }
    )  # fmt: skip
    _, truth = simulate_in_memory(scenario)
    starts: Counter[int] = Counter()
    seen: set[str] = set()
    for activity in truth.schedules:
        if activity.source == "in-house" and activity.agent_id not in seen:
            seen.add(activity.agent_id)
            starts[datetime.fromtimestamp(activity.start_ms / 1000, tz=UTC).hour] += 1
    assert starts == {8: 2, 14: 2}
