"""Scenario files for the contact-center simulator: pydantic models with documented defaults, TOML or YAML.

Validation only: an unknown key, an impossible value or a reference to a missing vendor is an error that
names the field. Nothing here draws a random number.
"""

from __future__ import annotations

import math
from datetime import date
from datetime import time
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from streams.engine.config import Setup
from streams.tenant import Engagement
from streams.tenant import EngagementModel
from streams.tenant import TenantFile
from streams.tenant import TenantFileError
from streams.tenant import load_tenant_file
from streams.tenant import read_table

SETUPS: tuple[Setup, ...] = ("network_delivered", "enterprise_routed", "virtualized")
ENGAGEMENTS: tuple[EngagementModel, ...] = ("targeted", "shared", "full")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
Positive = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0)]


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; the message names the offending field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patience(_Model):
    """How long callers wait before hanging up, measured from their first enqueue (overflow does not reset it).

    `none` means callers never abandon (Erlang C); `exponential` gives Erlang A's M/M/c+M.
    """

    distribution: Literal["none", "exponential", "lognormal"] = "exponential"
    mean_s: Positive = 180.0
    sigma: Annotated[float, Field(gt=0, le=3)] = 0.9


class HandleTime(_Model):
    """Talk, hold and after-contact work of one call type at the in-house center (vendors scale it).

    Log-normal talk and wrap-up are the usual empirical fit (Brown et al. 2005 found log-normal service times
    at the Anonymous Bank); `exponential` talk with no hold or wrap-up makes the M/M/c of queueing theory.
    """

    distribution: Literal["lognormal", "exponential"] = "lognormal"
    talk_mean_s: Positive = 240.0
    talk_sigma: Annotated[float, Field(gt=0, le=3)] = 0.8
    hold_prob: Share = 0.15
    hold_mean_s: NonNegative = 45.0
    acw_mean_s: NonNegative = 30.0
    acw_sigma: Annotated[float, Field(gt=0, le=3)] = 0.5

    @property
    def mean_handle_s(self) -> float:
        """The mean handle time at the in-house center: talk, the expected hold and after-contact work."""
        return self.talk_mean_s + self.hold_prob * self.hold_mean_s + self.acw_mean_s


class CallType(_Model):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    daily_volume: NonNegative = 2000.0
    handle: HandleTime = HandleTime()
    transfer_prob: Share = 0.03


class Behaviour(_Model):
    """How agents deviate from their schedule, so adherence has something real to find. Minutes are means."""

    late_login_prob: Share = 0.12
    late_login_mean_min: NonNegative = 7.0
    long_break_prob: Share = 0.15
    long_break_mean_min: NonNegative = 5.0
    early_logout_prob: Share = 0.06
    early_logout_mean_min: NonNegative = 10.0
    unscheduled_not_ready_per_hour: NonNegative = 0.15
    unscheduled_not_ready_mean_min: NonNegative = 4.0


class ShiftPattern(_Model):
    """A shift in the center's local day; breaks are placed at fixed offsets (a 15-min break, a 30-min lunch,
    a 15-min break for shifts of 8 h, fewer for shorter ones)."""

    start: time = time(8, 0)
    hours: Annotated[float, Field(gt=0, le=24)] = 8.0
    share: Share = 1.0
    breaks: bool = True


def staffed(*patterns: tuple[time, float, int]) -> tuple[ShiftPattern, ...]:
    """Shift patterns from a roster: (start, hours, agents) each, the share being its agents over the total."""
    total = sum(agents for _, _, agents in patterns)
    return tuple(
        ShiftPattern(start=start, hours=hours, share=agents / total) for start, hours, agents in patterns
    )


# The default center's roster, per 79 agents (see the calibration at `Scenario`): full-time 8-hour shifts
# staggered through the morning ramp, a 6-hour morning part-time and 4-5-hour afternoon and evening
# part-times, so that the agents on queue follow the default intraday profile hour by hour, with no hole.
DAY_ROSTER = staffed(
    (time(7, 0), 8.0, 11),
    (time(8, 0), 8.0, 10),
    (time(8, 30), 8.0, 8),
    (time(9, 0), 8.0, 9),
    (time(10, 0), 8.0, 6),
    (time(13, 0), 8.0, 4),
    (time(7, 0), 6.0, 7),
    (time(15, 0), 4.0, 7),
    (time(16, 0), 4.0, 8),
    (time(17, 0), 5.0, 9),
)
# An overflow vendor's small team, per 5 agents: two on shift from opening to closing, three to five from 11:00 to
# 19:00, when the in-house queue is busiest.
OVERFLOW_ROSTER = staffed((time(7, 0), 8.0, 2), (time(11, 0), 8.0, 1), (time(14, 0), 8.0, 2))


class Source(_Model):
    """The in-house center or a vendor: its agents, shifts, behaviour and what distinguishes its service."""

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    agents: Annotated[int, Field(ge=0, le=20_000)] = 50
    teams: Annotated[int, Field(ge=1, le=1_000)] = 5
    shifts: tuple[ShiftPattern, ...] = DAY_ROSTER
    behaviour: Behaviour = Behaviour()
    aht_multiplier: Positive = 1.0
    repeat_prob: Share = 0.08
    qa_mean: Annotated[float, Field(ge=0, le=100)] = 85.0
    qa_sd: NonNegative = 8.0
    csat_mean: Annotated[float, Field(ge=1, le=5)] = 4.2
    # Callers it takes waiting beyond its free agents: an overflow is returned (enterprise-routed) or not made
    # (virtualized look-ahead) when the queue is full; 0 = only when an agent is free. None = no limit.
    queue_limit: Annotated[int, Field(ge=0)] | None = None
    # How agents take the shifts: `rotating` (each agent a different pattern from day to day, the patterns'
    # shares holding on average) or `fixed` (each agent the same pattern every day, the shares held exactly:
    # agents x share on each, the remainders to the largest). A staffing plan that names seats per block
    # (`acdscope recommend`) needs `fixed`, so that every block has the seats it was sized for.
    roster: Literal["rotating", "fixed"] = "rotating"
    # The share of the agents on shift on a weekday (`mon` .. `sun`, of the simulated day's date) where it is not
    # all of them: round(agents x share) work, the first by number, the others are off that day (a real
    # center's Friday is not its Monday). A share, so that moving positions (`variant`) keeps the pattern.
    weekday_share: dict[Weekday, Share] = Field(default_factory=dict)

    def agents_on(self, weekday: Weekday) -> int:
        """The agents on shift on `weekday`."""
        return round(self.agents * self.weekday_share.get(weekday, 1.0))

    @model_validator(mode="after")
    def _shift_shares(self) -> Source:
        total = sum(pattern.share for pattern in self.shifts)
        if self.shifts and not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"shifts: shares sum to {total:.4f}, not 1")
        return self


class Scenario(_Model):
    """One enterprise, one delivery setup, one engagement model. Defaults describe a mid-size bank."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")] = "default"
    seed: int = 20260105
    start_date: date = date(2026, 1, 5)
    # When each simulated day begins (UTC) on `start_date` and after: the intraday profile's and the rosters'
    # hours count from it. Midnight by default; a live run (`producers.simulator.live`) moves it so that the
    # center opens now, and a tenant in another zone may start its days at its local midnight.
    start_time: time = time(0)
    days: Annotated[int, Field(ge=1, le=366)] = 1
    interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    service_threshold_s: Annotated[int, Field(ge=1, le=3600)] = 20
    # Weights per hour of the day (24 values, UTC); arrivals follow them as a piecewise-constant Poisson rate.
    # The default center opens 07:00-22:00, matching the default roster (see the staffing below).
    intraday_profile: tuple[NonNegative, ...] = (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 6.0, 8.5, 9.0, 9.0,
        8.5, 8.0, 8.0, 7.5, 7.0, 6.0, 4.5, 3.0, 2.0, 1.5, 0.0, 0.0,
    )  # fmt: skip
    call_types: tuple[CallType, ...] = (
        CallType(name="billing", daily_volume=1800.0),
        CallType(name="support", daily_volume=1400.0, handle=HandleTime(talk_mean_s=330.0)),
        CallType(name="sales", daily_volume=800.0, handle=HandleTime(talk_mean_s=280.0, hold_prob=0.05)),
    )
    patience: Patience = Patience()
    customers: Annotated[int, Field(ge=1)] = 60_000
    repeat_mean_hours: Positive = 6.0
    setup: Setup = "enterprise_routed"
    engagement: Engagement = Engagement()
    # Staffing, calibrated to what a real center runs (`producers/simulator/calibration.py` has the rule and the
    # measurement; tests/unit/test_calibration.py holds the default to it).
    # Rule: each hour, the agents Erlang C needs on queue for 80 % of calls answered within 20 s, at the hour's
    # expected calls (4,000 a day x the hour's share of the profile x 1.08 for transfers' second legs and
    # repeat calls) and the mix's mean handle time of 315 s. The roster (`DAY_ROSTER`, the default `Source.shifts`)
    # puts at least that many on queue after breaks and lunch, as the hour's mean, and 88 % of it in every
    # quarter hour: 79 agents, 48 on 8-hour shifts starting 07:00-13:00 and 31 part-time (07:00-13:00,
    # 15:00-19:00, 16:00-20:00, 17:00-22:00), 531 paid hours for 455 needed on queue, i.e. agents = need /
    # (1 - shrinkage) with 10.5 % of the paid time in scheduled breaks and lunch and 2.5 % in the hourly fit;
    # late log-ins, long breaks and unscheduled not-ready take another 1 % of the scheduled time (measured).
    # Measured (virtualized x shared, the default seed, one day; `python -m producers.simulator.calibration`):
    #   hour             07  08  09  10  11  12  13  14  15  16  17  18  19  20  21
    #   needed on queue  17  30  41  43  43  41  39  39  37  34  30  23  17  12   9
    #   scheduled        19  32  41  45  42  42  40  42  40  35  30  27  18  13   9
    #   calls offered   149 294 385 430 403 405 405 331 321 318 282 229 144  84  77
    #   occupancy %      66  77  78  85  86  91  89  75  67  85  80  74  68  62  79
    #   service level %  96  98  99  99  94  86  87  99 100  93  91  98  95 100  88
    # 85 % occupancy at the busiest hour (10:00), 89-91 % at the 12:00-13:00 lunch hours, no hour below 86 %
    # answered in 20 s: the simulated queue does better than Erlang C, whose rule this is, because callers
    # abandon (mean patience 180 s) and handle times vary less than exponential ones.
    # The vendor: an overflow contract (queue_limit 0: a caller is handed over after 30 s only when a vendor
    # agent is free, as an ACD's look-ahead does) sends it about 1 % of the calls, all answered at once, to an
    # overflow team of 5 (`OVERFLOW_ROSTER`, 2-4 on shift from opening to closing) at 0-50 % occupancy: it is
    # paid per contact, so its idle time is its own cost. `variant` resizes it when an engagement sends it real
    # volume: targeted (sales, 20 % of the workload) moves 16 in-house positions, 18 at its 1.12 handle time
    # (vendor 23 agents at 34-76 % occupancy, in-house 63 at 64-94 %); full moves all 79 (vendor 93 agents at
    # 62-90 % occupancy, 82 % at 10:00, and 81-100 % in 20 s each hour).
    in_house: Source = Source(id="in-house", agents=79, teams=8)
    vendors: tuple[Source, ...] = (
        Source(
            id="vendor-a",
            agents=5,
            teams=1,
            shifts=OVERFLOW_ROSTER,
            queue_limit=0,  # an overflow contract: a caller is handed over only when an agent is free for them
            aht_multiplier=1.12,
            repeat_prob=0.11,
            qa_mean=80.0,
            csat_mean=3.9,
        ),
    )
    redirect_fail_prob: Share = 0.01
    vendor_report_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    qa_sample_rate: Share = 0.05
    csat_response_rate: Share = 0.2

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        minute_of_day = self.start_time.hour * 60 + self.start_time.minute
        if self.start_time.second or self.start_time.microsecond or self.start_time.tzinfo is not None:
            raise ValueError("start_time: whole minutes, UTC, without a zone")
        for width in (self.interval_minutes, self.vendor_report_minutes):
            if minute_of_day % width:
                raise ValueError(
                    f"start_time: {self.start_time} is not on the {width}-minute interval grid; its intervals "
                    "would straddle the engine's"
                )
        ids = [self.in_house.id, *(vendor.id for vendor in self.vendors)]
        if len(set(ids)) != len(ids):
            raise ValueError(f"source ids must be unique: {ids}")
        vendor_ids = set(ids[1:])
        call_types = {call_type.name for call_type in self.call_types}
        if len(call_types) != len(self.call_types):
            raise ValueError("call_types: names must be unique")
        if len(self.intraday_profile) != 24 or sum(self.intraday_profile) <= 0:
            raise ValueError("intraday_profile: needs 24 non-negative weights, not all zero")
        engagement = self.engagement
        if engagement.model != "targeted" and engagement.targeted:
            raise ValueError("engagement.targeted: only used with model = 'targeted'")
        if engagement.model == "targeted":
            if not engagement.targeted:
                raise ValueError("engagement.targeted: name at least one call type and its vendor")
            for call_type, vendor in engagement.targeted.items():
                if call_type not in call_types:
                    raise ValueError(f"engagement.targeted: unknown call type {call_type!r}")
                if vendor not in vendor_ids:
                    raise ValueError(f"engagement.targeted.{call_type}: unknown vendor {vendor!r}")
        if engagement.split:
            for source in engagement.split:
                if source not in ids:
                    raise ValueError(f"engagement.split: unknown source {source!r}")
            total = sum(engagement.split.values())
            if not math.isclose(total, 100.0, abs_tol=1e-6):
                raise ValueError(f"engagement.split: shares sum to {total:g}%, not 100%")
        if engagement.model == "shared" and engagement.shared_mode == "split" and not engagement.split:
            raise ValueError("engagement.split: shared split needs shares per source summing to 100%")
        if engagement.model == "full" and engagement.split.get(self.in_house.id, 0) > 0:
            raise ValueError("engagement.split: a full engagement gives the in-house center no share")
        if engagement.model != "targeted" and not self.vendors and engagement.model != "shared":
            raise ValueError("vendors: a full engagement needs at least one vendor")
        if engagement.model in ("shared", "full") and not self.vendors and self.in_house.agents == 0:
            raise ValueError("in_house.agents: no one to answer calls")
        return self

    @property
    def source_ids(self) -> tuple[str, ...]:
        return (self.in_house.id, *(vendor.id for vendor in self.vendors))

    def source(self, source_id: str) -> Source:
        for source in (self.in_house, *self.vendors):
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def vendor_shares(self) -> dict[str, float]:
        """Fraction of calls per vendor for split and full engagements; equal shares when none are given."""
        vendors = [vendor.id for vendor in self.vendors]
        if self.engagement.split:
            return {v: self.engagement.split.get(v, 0.0) / 100.0 for v in vendors}
        if self.engagement.model == "full":
            return {v: 1.0 / len(vendors) for v in vendors}
        return {v: 0.0 for v in vendors}

    def tenant(self) -> str:
        return self.name


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "<scenario>"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"invalid scenario: {_format_errors(exc)}") from None


def load_scenario(path: Path) -> Scenario:
    """Read a `.toml`, `.yaml` or `.yml` scenario; errors name the file and the field.

    A scenario may be a tenant file (its `[simulation]` plays that tenant: `scenario_from_tenant`), or name
    one with `tenant = "path"` (relative to the scenario), its other keys then adding to the tenant's
    `[simulation]`: either way the tenant, its sources, setup and engagement are declared once, where the
    engine and `acdscope terms` read them."""
    try:
        data = read_table(path, "scenario")
    except TenantFileError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        if "tenant" in data:
            reference = data.pop("tenant")
            if not isinstance(reference, str):
                raise ScenarioError("tenant: the path of a tenant file")
            tenant = load_tenant_file(path.parent / reference)
            return scenario_from_tenant(
                tenant.model_copy(update={"simulation": {**tenant.simulation, **data}})
            )
        if "sources" in data:
            return scenario_from_tenant(load_tenant_file(path))
        return scenario_from_dict(data)
    except (ScenarioError, TenantFileError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None


# What a tenant file says itself and its `[simulation]` must not say again.
_TENANT_SAYS = {
    "name": "name",
    "setup": "setup",
    "engagement": "[engagement]",
    "in_house": "in_house and [simulation.sources.<id>]",
    "vendors": "[sources.<id>] and [simulation.sources.<id>]",
    "interval_minutes": "[engine] interval_minutes",
    "service_threshold_s": "the in-house contract's sla_threshold_s",
}


def scenario_from_tenant(tenant: TenantFile) -> Scenario:
    """The simulation of `tenant`: its `[simulation]` keys (demand, patience, ...; each source's staffing and
    behaviour under `[simulation.sources.<id>]`) with the tenant's own name, setup, engagement, sources (the
    in-house center, then the vendors in the file's order), interval width and SLA threshold (the in-house
    contract's: vendors report their calls answered within it). Call types, when the tenant lists them, are
    the simulated ones."""
    simulation = dict(tenant.simulation)
    for key, where in _TENANT_SAYS.items():
        if key in simulation:
            raise ScenarioError(f"simulation.{key}: the tenant file says it once, as {where}")
    staffing = simulation.pop("sources", {})
    if not isinstance(staffing, dict):
        raise ScenarioError("simulation.sources: a table per source id")
    unknown = sorted(set(staffing) - set(tenant.sources))
    if unknown:
        raise ScenarioError(f"simulation.sources: {unknown} not under the tenant's sources")

    def source(source_id: str) -> dict[str, Any]:
        spec = staffing.get(source_id, {})
        if "id" in spec:
            raise ScenarioError(f"simulation.sources.{source_id}.id: the table's name is the id")
        return {**spec, "id": source_id}

    data: dict[str, Any] = {
        **simulation,
        "name": tenant.name,
        "setup": tenant.setup,
        "engagement": tenant.engagement.model_dump(),
        "in_house": source(tenant.in_house),
        "vendors": [source(vendor) for vendor in tenant.vendors],
        "service_threshold_s": tenant.sources[tenant.in_house].sla_threshold_s,
    }
    if "interval_minutes" in tenant.engine:
        data["interval_minutes"] = tenant.engine["interval_minutes"]
    scenario = scenario_from_dict(data)
    simulated = [call_type.name for call_type in scenario.call_types]
    if tenant.call_types and sorted(simulated) != sorted(tenant.call_types):
        raise ScenarioError(
            f"simulation.call_types: simulates {simulated}, the tenant's call_types are {list(tenant.call_types)}"
        )
    return scenario


def _merged_shifts(
    kept: int, shifts: tuple[ShiftPattern, ...], added: int, added_shifts: tuple[ShiftPattern, ...]
) -> list[dict[str, Any]]:
    """The roster of `kept` agents on `shifts` joined by `added` agents on `added_shifts`, as shift dicts."""
    weights: dict[tuple[time, float, bool], float] = {}
    for agents, patterns in ((kept, shifts), (added, added_shifts)):
        for pattern in patterns:
            key = (pattern.start, pattern.hours, pattern.breaks)
            weights[key] = weights.get(key, 0.0) + agents * pattern.share
    total = sum(weights.values())
    if total == 0:
        return [pattern.model_dump() for pattern in shifts]
    return [
        {"start": start, "hours": hours, "breaks": breaks, "share": weight / total}
        for (start, hours, breaks), weight in weights.items()
        if weight > 0
    ]


def contracted_seats(source: Source) -> int | None:
    """The seats a vendor's contract names for its roster: the agents its shifts have on shift, on average over
    the minutes of the day it is open (a shift past midnight wraps round), rounded; None without agents.

    A contract prices and plans seat-hours: one number of seats for every interval the vendor is open, so that
    seats x open hours are the roster's hours and the seat fill over a day (agents on queue over those
    seat-hours) says whether the vendor delivered them, about 1 - shrinkage when it staffs to plan. The
    default overflow team of 5 (`OVERFLOW_ROSTER`: 2 on 07:00-15:00, 1 on 11:00-19:00, 2 on 14:00-22:00) has
    40 agent-hours over 15 open hours: 2.7, so 3 seats. An interval's seats gap then follows the roster's
    shape around that mean (short at opening, over at the peak), as the flat commitment it is compared with.
    """
    if not source.agents or not source.shifts:
        return None
    on_shift = [0.0] * 1440
    for pattern in source.shifts:
        start = pattern.start.hour * 60 + pattern.start.minute
        for minute in range(start, start + round(pattern.hours * 60)):
            on_shift[minute % 1440] += source.agents * pattern.share
    open_minutes = [agents for agents in on_shift if agents > 0]
    return math.floor(sum(open_minutes) / len(open_minutes) + 0.5) or None


def variant(base: Scenario, setup: Setup, engagement: EngagementModel) -> Scenario:
    """The same enterprise and demand under another setup and engagement model, for paired comparison.

    Engagement details not set in the base file get defaults: targeted sends the last call type to the first
    vendor; shared keeps the base's mode (overflow after 30 s unless the base says otherwise); full splits
    calls evenly across vendors.

    Staffing moves with the work, so each source stays sized for what the engagement sends it. Shared keeps the
    base's agents (the base describes a shared center). Targeted moves the in-house positions of the targeted
    call types' share of the in-house workload (calls x handle time) to their vendors; full moves them all,
    in proportion to the vendors' split. A vendor takes the moved positions with their shifts and scales
    them by its `aht_multiplier`: it staffs for its own handle time, in teams of the in-house size. A targeted
    base keeps its staffing.
    """
    if not base.vendors:
        raise ScenarioError("vendors: paired comparison needs at least one vendor")
    current = base.engagement
    first_vendor = base.vendors[0].id
    if engagement == "targeted":
        targeted = current.targeted or {base.call_types[-1].name: first_vendor}
        new = Engagement(model="targeted", targeted=targeted, overflow_after_s=current.overflow_after_s)
    elif engagement == "shared":
        split = current.split if current.shared_mode == "split" else {}
        new = Engagement(
            model="shared",
            shared_mode=current.shared_mode,
            overflow_after_s=current.overflow_after_s,
            split=split,
        )
    else:
        vendor_split = {k: v for k, v in current.split.items() if k != base.in_house.id and v > 0}
        total = sum(vendor_split.values())
        new = Engagement(model="full", split={k: 100.0 * v / total for k, v in vendor_split.items()})
    data = base.model_dump()
    data.update(setup=setup, engagement=new.model_dump(), name=f"{setup}-{engagement}".replace("_", "-"))
    in_house = base.in_house
    moves = engagement == "full" or (engagement == "targeted" and current.model != "targeted")
    if moves and in_house.agents:
        if engagement == "full":
            percents = new.split or {vendor.id: 100.0 / len(base.vendors) for vendor in base.vendors}
            shares = {vendor_id: percent / 100.0 for vendor_id, percent in percents.items()}
        else:
            workload = {ct.name: ct.daily_volume * ct.handle.mean_handle_s for ct in base.call_types}
            total_work = sum(workload.values()) or 1.0
            shares = {}
            for call_type, vendor_id in new.targeted.items():
                shares[vendor_id] = shares.get(vendor_id, 0.0) + workload[call_type] / total_work
        moved = {vendor_id: round(in_house.agents * share) for vendor_id, share in shares.items()}
        vendors: list[dict[str, Any]] = []
        for vendor, spec in zip(base.vendors, data["vendors"], strict=True):
            added = round(moved.get(vendor.id, 0) * vendor.aht_multiplier)
            if added:
                agents = vendor.agents + added
                shifts = _merged_shifts(vendor.agents, vendor.shifts, added, in_house.shifts)
                teams = max(vendor.teams, round(agents * in_house.teams / in_house.agents))
                spec = {**spec, "agents": agents, "teams": teams, "shifts": shifts}
                if spec.get("queue_limit") == 0:
                    # An overflow contract ("only when an agent is free") does not fit work sent by contract:
                    # the vendor queues what it is sent, like the in-house center it replaces.
                    spec["queue_limit"] = None
            vendors.append(spec)
        data["vendors"] = vendors
        remaining = 0 if engagement == "full" else in_house.agents - sum(moved.values())
        data["in_house"] = {**data["in_house"], "agents": max(0, remaining)}
    return scenario_from_dict(data)
