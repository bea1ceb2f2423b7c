"""Scenario files for the contact-center simulator: pydantic models with documented defaults, TOML or YAML.

Validation only: an unknown key, an impossible value or a reference to a missing vendor is an error that
names the field. Nothing here draws a random number.
"""

from __future__ import annotations

import math
import tomllib
from datetime import date
from datetime import time
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal

import yaml
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

Setup = Literal["network_delivered", "enterprise_routed", "virtualized"]
EngagementModel = Literal["targeted", "shared", "full"]
SETUPS: tuple[Setup, ...] = ("network_delivered", "enterprise_routed", "virtualized")
ENGAGEMENTS: tuple[EngagementModel, ...] = ("targeted", "shared", "full")

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


class Source(_Model):
    """The in-house center or a vendor: its agents, shifts, behaviour and what distinguishes its service."""

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    agents: Annotated[int, Field(ge=0, le=20_000)] = 50
    teams: Annotated[int, Field(ge=1, le=1_000)] = 5
    shifts: tuple[ShiftPattern, ...] = (
        ShiftPattern(start=time(7, 0), share=0.4),
        ShiftPattern(start=time(10, 0), share=0.35),
        ShiftPattern(start=time(14, 0), share=0.25),
    )
    behaviour: Behaviour = Behaviour()
    aht_multiplier: Positive = 1.0
    repeat_prob: Share = 0.08
    qa_mean: Annotated[float, Field(ge=0, le=100)] = 85.0
    qa_sd: NonNegative = 8.0
    csat_mean: Annotated[float, Field(ge=1, le=5)] = 4.2
    queue_limit: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _shift_shares(self) -> Source:
        total = sum(pattern.share for pattern in self.shifts)
        if self.shifts and not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"shifts: shares sum to {total:.4f}, not 1")
        return self


class Engagement(_Model):
    """Which calls a vendor gets. `targeted`: chosen call types; `shared`: overflow after `overflow_after_s` in
    the in-house queue, or a percentage `split`; `full`: every call goes to the vendors."""

    model: EngagementModel = "shared"
    shared_mode: Literal["overflow", "split"] = "overflow"
    overflow_after_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # Percent of calls per source id for `shared`+`split` (include the in-house id) and for `full` (vendors).
    split: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)
    # call type -> vendor id for `targeted`.
    targeted: dict[str, str] = Field(default_factory=dict)


class Scenario(_Model):
    """One enterprise, one delivery setup, one engagement model. Defaults describe a mid-size bank."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")] = "default"
    seed: int = 20260105
    start_date: date = date(2026, 1, 5)
    days: Annotated[int, Field(ge=1, le=366)] = 1
    interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    service_threshold_s: Annotated[int, Field(ge=1, le=3600)] = 20
    # Weights per hour of the day (24 values, UTC); arrivals follow them as a piecewise-constant Poisson rate.
    # The default center opens 07:00-22:00, matching the default shifts.
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
    in_house: Source = Source(id="in-house", agents=90, teams=9)
    vendors: tuple[Source, ...] = (
        Source(
            id="vendor-a",
            agents=40,
            teams=4,
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
    """Read a `.toml`, `.yaml` or `.yml` scenario; errors name the file and the field."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise ScenarioError(f"{path}: scenario files are .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a table of settings")
    try:
        return scenario_from_dict(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def variant(base: Scenario, setup: Setup, engagement: EngagementModel) -> Scenario:
    """The same enterprise and demand under another setup and engagement model, for paired comparison.

    Engagement details not set in the base file get defaults: targeted sends the last call type to the first
    vendor; shared keeps the base's mode (overflow after 30 s unless the base says otherwise); full splits
    calls evenly across vendors.
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
    if engagement == "full" and base.in_house.agents:
        # A full engagement moves the work, so it moves the headcount: the in-house agents' positions go to
        # the vendors in proportion to their shares, and the comparison stays one of equal capacity.
        shares = new.split or {vendor.id: 100.0 / len(base.vendors) for vendor in base.vendors}
        moved = base.in_house.agents
        vendors: list[dict[str, Any]] = []
        for i, vendor in enumerate(data["vendors"]):
            extra = round(moved * shares.get(vendor["id"], 0.0) / 100.0)
            if i == len(data["vendors"]) - 1:
                extra = moved - sum(
                    v["agents"] - b.agents for v, b in zip(vendors, base.vendors, strict=False)
                )
            vendors.append({**vendor, "agents": vendor["agents"] + extra})
        data["vendors"] = vendors
        data["in_house"] = {**data["in_house"], "agents": 0}
    return scenario_from_dict(data)
