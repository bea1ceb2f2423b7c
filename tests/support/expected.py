"""The test oracle: what the engine must report, computed from the simulator's truth and the setup's rules of
visibility, with no engine code. Shared by the pure tests and the end-to-end integration test."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from producers.simulator.scenario import Scenario
from producers.simulator.truth import TruthRecorder

HOUR = 3_600_000


def observes_contacts(scenario: Scenario, source: str) -> bool:
    return source == scenario.in_house.id or scenario.setup == "virtualized"


def expected_quality(scenario: Scenario, truth: TruthRecorder) -> dict[tuple[str, str, int], dict[str, Any]]:
    """(source, call type, interval ms) -> figures; vendors a setup hides come from the vendor's own reports."""
    expected: dict[tuple[str, str, int], dict[str, Any]] = {}
    figures = truth.per_interval(scenario.interval_minutes, scenario.service_threshold_s)
    for (source, call_type, start), row in figures.items():
        if observes_contacts(scenario, source):
            expected[(source, call_type, start)] = {
                "observed_via": "events",
                "offered": row.get("offered", 0),
                "answered": row.get("answered", 0),
                "abandoned": row.get("abandoned", 0),
                "answered_within_target": row.get("answered_within_target", 0),
                "wait_answered_ms": row.get("wait_ms", 0),
                "talk_ms": row.get("talk_ms", 0),
                "hold_ms": row.get("hold_ms", 0),
                "acw_ms": row.get("acw_ms", 0),
                "handled": row.get("handled", 0),
                "transferred": row.get("transferred", 0),
                "transferred_in": row.get("transferred_in", 0),
                "overflowed_out": row.get("overflowed", 0),
                "qa_count": row.get("qa_count", 0),
                "qa_sum": round(row.get("qa_sum", 0.0), 6),
                "csat_count": row.get("csat_count", 0),
                "csat_sum": row.get("csat_sum", 0),
            }
    for report in truth.vendor_reports:
        if observes_contacts(scenario, report.source):
            continue
        expected[(report.source, report.call_type, report.interval_start_ms)] = {
            "observed_via": "vendor_report",
            "offered": report.offered,
            "answered": report.answered,
            "abandoned": report.abandoned,
            "answered_within_target": report.answered_within_target,
            "wait_answered_ms": None,
            "talk_ms": None,
            "hold_ms": None,
            "acw_ms": None,
            "handled": report.handled,
            "transferred": report.transferred,
            "transferred_in": None,
            "overflowed_out": None,
            "qa_count": report.qa_count,
            "qa_sum": round(report.qa_sum, 6),
            "csat_count": report.csat_count,
            "csat_sum": report.csat_sum,
            "handle_ms": report.handle_ms,
            "staffed_ms": report.staffed_ms,
        }
    return expected


def expected_volume(scenario: Scenario, truth: TruthRecorder) -> dict[tuple[str, int], tuple[int, int, int]]:
    """(source, interval ms) -> (offered, answered, abandoned), the contact volume of the sources a setup shows.

    Offered counts the calls that reached the source's ACD, in the interval they arrived there: a call the
    in-house ACD redirects on arrival is offered there and again at the vendor (unlike `expected_quality`,
    which counts queue entries). Answered and abandoned count outcomes in the interval of queue entry. A tier-2
    leg an internal transfer queued is the same call: neither offered again nor a second outcome."""
    width = scenario.interval_minutes * 60_000
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for leg in truth.legs:
        if leg.entry == "transfer" or not observes_contacts(scenario, leg.source):
            continue
        counts[(leg.source, leg.arrived_ms - leg.arrived_ms % width)][0] += 1
        if leg.outcome in ("answered", "abandoned"):
            assert leg.enqueued_ms is not None
            at = leg.enqueued_ms
            counts[(leg.source, at - at % width)][1 if leg.outcome == "answered" else 2] += 1
    return {key: (offered, answered, abandoned) for key, (offered, answered, abandoned) in counts.items()}


def expected_overflow(scenario: Scenario, truth: TruthRecorder) -> dict[tuple[str, int], dict[str, Any]]:
    """(call type, arrival interval ms) -> per customer call figures for calls arriving at the enterprise ACD."""
    width = scenario.interval_minutes * 60_000
    threshold_ms = scenario.service_threshold_s * 1000
    chains: dict[str, list[Any]] = defaultdict(list)
    for leg in truth.legs:
        chains[leg.initial_contact_id].append(leg)
    expected: dict[tuple[str, int], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    routing_seen = scenario.setup != "network_delivered"
    for legs in chains.values():
        legs.sort(key=lambda leg: leg.leg_no)
        first = legs[0]
        if first.entry != "enterprise_acd":
            continue
        row = expected[(first.call_type, first.arrived_ms - first.arrived_ms % width)]
        row["arrived"] += 1
        if first.overflow_to is not None and routing_seen:
            row["overflowed"] += 1
            row[f"overflowed_{first.overflow_trigger}"] += 1
            # Every overflow attempt waited the configured time if it was a timeout, nothing otherwise.
            if first.overflow_trigger == "timeout":
                row["overflow_wait_ms"] += int(scenario.engagement.overflow_after_s * 1000)
        hidden = scenario.setup == "enterprise_routed" and first.handoff == "accepted"
        if hidden:
            row["e2e_hidden"] += 1
            continue
        final = next((leg for leg in legs if leg.outcome in ("answered", "abandoned")), None)
        if final is None:
            continue
        if final.outcome == "answered":
            row["e2e_answered"] += 1
            row["e2e_answered_within_target"] += int((final.total_wait_ms or 0) <= threshold_ms)
        else:
            row["e2e_abandoned"] += 1
    return {key: dict(value) for key, value in expected.items()}


def expected_conformance(scenario: Scenario, truth: TruthRecorder) -> dict[str, tuple[int, int]]:
    """agent id -> (worked on-queue ms, scheduled on-queue ms) over the run, for the agents the setup shows."""
    worked: dict[str, int] = defaultdict(int)
    scheduled: dict[str, int] = defaultdict(int)
    for span in truth.spans:
        if span.state in ("ready", "busy", "acw"):
            worked[span.agent_id] += span.end_ms - span.start_ms
    for activity in truth.schedules:
        if activity.activity == "on_queue":
            scheduled[activity.agent_id] += activity.end_ms - activity.start_ms
    agents = {span.agent_id: span.source for span in truth.spans} | {
        a.agent_id: a.source for a in truth.schedules
    }
    return {
        agent: (worked.get(agent, 0), scheduled.get(agent, 0))
        for agent, source in agents.items()
        if observes_contacts(scenario, source)
    }


def expected_handling(scenario: Scenario, truth: TruthRecorder) -> dict[str, int]:
    """agent id -> ms on a contact or in wrap-up (occupancy's numerator) over the run, for the agents the
    setup shows, from the simulator's own state spans."""
    handling = {agent: 0 for agent in expected_conformance(scenario, truth)}
    for span in truth.spans:
        if span.state in ("busy", "acw") and span.agent_id in handling:
            handling[span.agent_id] += span.end_ms - span.start_ms
    return handling


def expected_repeats(
    scenario: Scenario, truth: TruthRecorder, window_hours: int = 24
) -> dict[tuple[str, str, int], tuple[int, int]]:
    """(handling source, call type, arrival interval ms) -> (handled, repeated), over the calls the enterprise sees.

    A call counts as handled by the source that answered it (or, enterprise-routed, the vendor it was redirected
    to); it is repeated when the same caller's next visible call arrives within the window."""
    width = scenario.interval_minutes * 60_000
    window = window_hours * HOUR
    chains: dict[str, list[Any]] = defaultdict(list)
    for leg in truth.legs:
        chains[leg.initial_contact_id].append(leg)
    calls_by_caller: dict[str, list[tuple[int, str | None, str]]] = defaultdict(list)
    for legs in chains.values():
        legs.sort(key=lambda leg: leg.leg_no)
        first = legs[0]
        if first.entry != "enterprise_acd":
            continue  # network-delivered to a vendor: never seen
        handled_by = None
        if scenario.setup == "enterprise_routed" and first.handoff == "accepted":
            handled_by = first.overflow_to
        else:
            answered = next((leg for leg in legs if leg.outcome in ("answered", "abandoned")), None)
            if answered is not None and answered.outcome == "answered":
                handled_by = answered.source
        calls_by_caller[first.caller_hash].append((first.arrived_ms, handled_by, first.call_type))
    expected: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for calls in calls_by_caller.values():
        calls.sort()
        for i, (arrived, handled_by, call_type) in enumerate(calls):
            if handled_by is None:
                continue
            row = expected[(handled_by, call_type, arrived - arrived % width)]
            row[0] += 1
            if any(arrived < later <= arrived + window for later, _, _ in calls[i + 1 :]):
                row[1] += 1
    return {key: (handled, repeated) for key, (handled, repeated) in expected.items()}


def on_queue_by_interval(truth: TruthRecorder, source: str, width_ms: int) -> dict[int, int]:
    """Each interval's time on queue (available, on a contact, in wrap-up) of the source's agents, cut from the
    agent state spans the simulator recorded: what the vendor's reports must say it staffed."""
    on_queue: dict[int, int] = defaultdict(int)
    for span in truth.spans:
        if span.source != source or span.state not in ("ready", "busy", "acw"):
            continue
        start = span.start_ms
        while start < span.end_ms:
            stop = min(span.end_ms, start - start % width_ms + width_ms)
            on_queue[start - start % width_ms] += stop - start
            start = stop
    return dict(on_queue)
