"""Ground truth from the simulator's own state: every contact leg, agent state span and schedule activity,
including what the delivery setup hides from the enterprise, plus per-source per-interval figures.

Computed from the simulation's records alone, never from emitted events or the engine, so it can check both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

if TYPE_CHECKING:
    from producers.simulator.core import Simulation


@dataclass(slots=True)
class Leg:
    """One contact leg at one source: arrival, the queue it waited in, its outcome and handle times."""

    tenant: str
    initial_contact_id: str
    contact_id: str
    leg_no: int
    source: str
    call_type: str
    caller_hash: str
    arrived_ms: int
    first_enqueue_ms: int
    entry: str = "enterprise_acd"  # enterprise_acd | network | overflow | transfer
    enqueued_ms: int | None = None
    outcome: str = "open"  # answered | abandoned | overflowed | open
    outcome_ms: int | None = None
    wait_ms: int | None = None
    total_wait_ms: int | None = None
    agent_id: str | None = None
    talk_ms: int = 0
    hold_ms: int = 0
    acw_ms: int = 0
    transferred: bool = False
    overflow_trigger: str | None = None
    overflow_to: str | None = None
    handoff: str | None = None
    qa_score: float | None = None
    csat: int | None = None
    repeat_of: str | None = None


class AgentSpan(NamedTuple):
    """What an agent really did from `start_ms` to `end_ms`: ready, busy, acw or away (with the reason).

    A named tuple, not a dataclass: one is made per state change, and tuples are cheapest to make.
    """

    agent_id: str
    source: str
    team: str
    state: str
    reason: str
    start_ms: int
    end_ms: int


class ScheduledActivity(NamedTuple):
    agent_id: str
    source: str
    team: str
    activity: str
    start_ms: int
    end_ms: int


class VendorReportTruth(NamedTuple):
    """One vendor interval report as sent: calls (not transfer-in legs) and the work and scores of every leg, and
    the share of the vendor's agents' time on queue in the interval given to the report's call type."""

    source: str
    call_type: str
    interval_start_ms: int
    offered: int
    answered: int
    abandoned: int
    answered_within_target: int
    handle_ms: int
    handled: int
    transferred: int
    qa_count: int
    qa_sum: float
    csat_count: int
    csat_sum: int
    staffed_ms: int


@dataclass
class TruthRecorder:
    """Collects the truth of one run; `per_interval` turns it into the figures the engine must reproduce."""

    tenant: str = ""
    interval_minutes: int = 15
    threshold_s: int = 20  # the scenario's service-level threshold
    legs: list[Leg] = field(default_factory=list)
    spans: list[AgentSpan] = field(default_factory=list)
    schedules: list[ScheduledActivity] = field(default_factory=list)
    vendor_reports: list[VendorReportTruth] = field(default_factory=list)
    _open_legs: dict[str, Leg] = field(default_factory=dict)

    def schedule(
        self, agent_id: str, source: str, team: str, activity: str, start_ms: int, end_ms: int
    ) -> None:
        self.schedules.append(ScheduledActivity(agent_id, source, team, activity, start_ms, end_ms))

    def agent_span(self, span: AgentSpan) -> None:
        self.spans.append(span)

    def finish(self, simulation: Simulation) -> None:
        """Collect every leg the run created, in creation order, once the run is over."""
        self.tenant = simulation.tenant
        self.interval_minutes = simulation.s.interval_minutes
        self.threshold_s = simulation.s.service_threshold_s
        self.legs = list(simulation.all_legs)

    def per_interval(
        self, interval_minutes: int, threshold_s: int
    ) -> dict[tuple[str, str, int], dict[str, Any]]:
        """True figures per (source, call type, interval of queue entry): offered, answered, abandoned, answered
        within `threshold_s`, wait and handle sums, overflowed out, transfers, transfers in, QA and CSAT.

        A leg counts at the source whose queue it entered; a call overflowed after waiting is offered at the
        in-house queue and again at the vendor, one redirected on arrival only at the vendor. A leg an internal
        transfer queued is the same call: it counts as transferred in, never as offered, answered or abandoned,
        while its handle time, transfer and scores count like any handled leg's.
        """
        width = interval_minutes * 60_000
        threshold_ms = threshold_s * 1000
        table: dict[tuple[str, str, int], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
        for leg in self.legs:
            if leg.enqueued_ms is None:
                continue  # redirected at arrival: it never entered this source's queue
            at = leg.enqueued_ms
            row = table[(leg.source, leg.call_type, at - at % width)]
            answered = leg.outcome == "answered"
            if leg.entry == "transfer":
                row["transferred_in"] += 1
            else:
                row["offered"] += 1
                if answered:
                    # The wait from the simulator's own clock readings (queue entry, answer), not the number
                    # it wrote into the event: a wrong wait in the events cannot agree with it by construction.
                    assert leg.outcome_ms is not None
                    wait = leg.outcome_ms - at
                    row["answered"] += 1
                    row["answered_within_target"] += int(wait <= threshold_ms)
                    row["wait_ms"] += wait
                elif leg.outcome == "abandoned":
                    row["abandoned"] += 1
                elif leg.outcome == "overflowed":
                    row["overflowed"] += 1
            if answered:
                row["handled"] += 1
                row["talk_ms"] += leg.talk_ms
                row["hold_ms"] += leg.hold_ms
                row["acw_ms"] += leg.acw_ms
            add_scores(row, leg)
        return {key: dict(value) for key, value in table.items()}


def add_scores(row: dict[str, Any], leg: Leg) -> None:
    """A leg's transfer, QA evaluation and survey answer into a row of counts (the truth's and a vendor report's)."""
    row["transferred"] += int(leg.transferred)
    if leg.qa_score is not None:
        row["qa_count"] += 1
        row["qa_sum"] += leg.qa_score
    if leg.csat is not None:
        row["csat_count"] += 1
        row["csat_sum"] += leg.csat
