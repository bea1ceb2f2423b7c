"""What the engine needs to know that events do not say: interval width, lateness, thresholds, and per tenant
the delivery setup (which decides what is observable) and the vendors.

Plain frozen settings; loaded by the edge from a file or built from a simulator scenario.
"""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator

Setup = Literal["network_delivered", "enterprise_routed", "virtualized"]

HIDDEN_VENDOR_CALLS = {
    "network_delivered": "network-delivered: the carrier routes vendor calls; only the vendor's interval reports are seen",
    "enterprise_routed": "enterprise-routed: the vendor's queue and agents are not seen; only its interval reports",
}
HIDDEN_ROUTING = "network-delivered: the split and overflow happen at the carrier, before the enterprise ACD"
HIDDEN_VENDOR_OUTCOME = "enterprise-routed: a redirected call's outcome at the vendor is not seen"


Kpi = Literal["service_level", "abandonment", "aht", "qa", "adherence"]
# The KPIs where less is better (abandon rate, AHT in seconds); the others are better higher.
LOWER_IS_BETTER: frozenset[str] = frozenset({"abandonment", "aht"})
CostModel = Literal[
    "loaded_hourly", "per_agent_hour", "per_productive_hour", "per_seat_hour", "per_handled_minute",
    "per_contact", "fixed", "anchored",
]  # fmt: skip
# Models priced per billing period, not per interval: their interval cost is NULL (the settlement prices them).
PERIOD_PRICED: frozenset[str] = frozenset({"fixed", "anchored"})


class Tier(BaseModel):
    """One step of a KPI's schedule: `share` of the period's billed amount, owed to the enterprise (a penalty)
    when the KPI over the period is worse than `bound`, or to the vendor (a bonus) when it is as good as `bound`
    or better. Tiers do not add up: the deepest one reached applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bound: Annotated[float, Field(ge=0)]
    share: Annotated[float, Field(ge=0, le=1)]


class KpiTerms(BaseModel):
    """A KPI the contract holds a vendor to over each billing period, computed from the period's counters (not
    an average of interval figures): service level (answered within the SLA threshold over offered, abandons
    against), abandonment (abandoned over offered), AHT (s), QA score and adherence (1 - exception over
    scheduled time). Missing `target` is a missed KPI (it counts towards chronic under-performance); the
    money moves only where a tier says so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: Annotated[float, Field(ge=0)]
    penalties: tuple[Tier, ...] = ()
    bonuses: tuple[Tier, ...] = ()


class AnchoredPricing(BaseModel):
    """Anchored (baseline) pricing, per billing period: `base_fee` buys `baseline` contacts (answered) within
    +/- `band` of it; each contact above the band is charged `above_rate` (an additional resource charge), each
    one below it credited `below_rate` (a reduced resource credit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    baseline: Annotated[float, Field(gt=0)]
    band: Annotated[float, Field(ge=0, lt=1)] = 0.1
    base_fee: Annotated[float, Field(ge=0)]
    above_rate: Annotated[float, Field(ge=0)]
    below_rate: Annotated[float, Field(ge=0)]


class LoadedCost(BaseModel):
    """An in-house center's loaded cost per rostered hour, from what the enterprise pays per agent a year:
    salary plus benefits (a share of it), plus overhead (facilities, IT, supervision: a share of pay and
    benefits), over the paid hours less the paid time off (holidays, vacation, sickness), since agents on leave
    are paid but not rostered. 45,500 a year, 28 % benefits, 20 % overhead, 2,080 paid hours, 240 off: 37.98."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    annual_salary: Annotated[float, Field(gt=0)]
    benefits: Annotated[float, Field(ge=0, le=5)] = 0.0
    overhead: Annotated[float, Field(ge=0, le=5)] = 0.0
    paid_hours: Annotated[float, Field(gt=0, le=8784)] = 2080.0
    time_off_hours: Annotated[float, Field(ge=0)] = 0.0

    @property
    def hourly(self) -> float:
        return (
            self.annual_salary
            * (1 + self.benefits)
            * (1 + self.overhead)
            / (self.paid_hours - self.time_off_hours)
        )

    @model_validator(mode="after")
    def _rostered_hours_left(self) -> LoadedCost:
        if self.time_off_hours >= self.paid_hours:
            raise ValueError("time_off_hours must be fewer than paid_hours: no rostered hour would be left")
        return self


class SourceTerms(BaseModel):
    """What a source costs and what is expected of it (the contract with a vendor, or the in-house budget).

    Cost models: `loaded_hourly` (in-house: salaries, benefits, time off and overhead per rostered hour, given
    as `rate` or worked out from `loaded_cost`), `per_agent_hour` (per rostered agent hour), `per_productive_hour`
    (per agent hour on queue: available, on a contact or in wrap-up; a vendor's reported staffed time where its
    agents are hidden), `per_seat_hour` (the contracted seats, per hour the source was open), `per_handled_minute`,
    `per_contact` (per contact answered), `fixed` (`rate` per billing period) and `anchored` (`anchored`).
    The SLA: at least `sla_target` of offered contacts answered within `sla_threshold_s` (abandons counted
    against) per interval; a breached interval earns the enterprise a credit of `sla_credit` of that interval's
    cost; `chronic_after` consecutive breached intervals flag chronic under-performance.

    Settlement per `billing_period`: each of `kpis` over the period against its target and tiers; penalties and
    interval credits together at most `penalty_cap` of the billed amount, bonuses at most `bonus_cap` (and only
    in a period that met every KPI); a period's penalty is earned back when the `earn_back_after` periods after
    it all meet every KPI; `chronic_after_periods` periods in a row missing a KPI make the verdict chronic.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cost_model: CostModel = "loaded_hourly"
    rate: Annotated[float, Field(ge=0)] = 0.0
    loaded_cost: LoadedCost | None = None
    anchored: AnchoredPricing | None = None
    sla_threshold_s: Annotated[int, Field(ge=1, le=3600)] = 20
    sla_target: Annotated[float, Field(ge=0, le=1)] = 0.8
    sla_credit: Annotated[float, Field(ge=0, le=1)] = 0.0
    chronic_after: Annotated[int, Field(ge=1)] = 8
    # Days in a row with the daily service level under target that also flag chronic under-performance.
    chronic_after_days: Annotated[int, Field(ge=1)] = 3
    # The share of the tenant's arriving calls this source is contracted to get (percentage splits, full):
    # the actual share is compared with it (split drift). None when no share is contracted.
    contracted_share: Annotated[float, Field(ge=0, le=1)] | None = None
    # The seats (agents on queue) the vendor contracts to staff in each interval it is open: the staffed agents,
    # seen or reported, are compared with it (seats gap, seat fill). None when the contract names none.
    contracted_seats: Annotated[int, Field(ge=1)] | None = None
    # The band over the forecast within which the source must cope: a breached interval whose calls exceed the
    # forecast by more than it is put down (also) to the volume sent, within it to the staffing.
    forecast_tolerance: Annotated[float, Field(ge=0, le=10)] = 0.1
    billing_period: Literal["month", "week"] = "month"
    kpis: dict[Kpi, KpiTerms] = Field(default_factory=dict)
    penalty_cap: Annotated[float, Field(ge=0, le=1)] | None = None
    bonus_cap: Annotated[float, Field(ge=0, le=1)] | None = None
    earn_back_after: Annotated[int, Field(ge=1, le=24)] | None = None
    chronic_after_periods: Annotated[int, Field(ge=1, le=24)] = 3

    @model_validator(mode="before")
    @classmethod
    def _loaded_rate(cls, data: Any) -> Any:
        """The loaded hourly rate is worked out from `loaded_cost` where the file gives the pay; a file giving both
        is refused (which one would the dashboards price by?)."""
        if isinstance(data, dict) and data.get("loaded_cost") is not None:
            cost = data["loaded_cost"]
            cost = cost if isinstance(cost, LoadedCost) else LoadedCost.model_validate(cost)
            # (A dump of these terms carries the rate worked out: the same rate again is not a second one.)
            if data.get("rate") is not None and abs(data["rate"] - cost.hourly) > 1e-9:
                raise ValueError("give either rate or loaded_cost: the rate is worked out from loaded_cost")
            return {**data, "loaded_cost": cost, "rate": cost.hourly}
        return data

    @model_validator(mode="after")
    def _terms_fit_the_model(self) -> SourceTerms:
        """Terms that could not be priced or judged as written are refused, saying which."""
        if self.loaded_cost is not None and self.cost_model != "loaded_hourly":
            raise ValueError(f"loaded_cost prices the loaded_hourly model, not {self.cost_model}")
        if (self.cost_model == "anchored") != (self.anchored is not None):
            raise ValueError("the anchored cost model needs [anchored] terms, and only it takes them")
        if self.cost_model == "per_seat_hour" and self.contracted_seats is None:
            raise ValueError("per_seat_hour prices the contracted seats: set contracted_seats")
        for kpi, terms in self.kpis.items():
            lower = kpi in LOWER_IS_BETTER
            for tier in terms.penalties:
                if (tier.bound < terms.target) if lower else (tier.bound > terms.target):
                    raise ValueError(
                        f"kpis.{kpi}: a penalty tier's bound {tier.bound} is better than the target"
                    )
            for tier in terms.bonuses:
                if (tier.bound > terms.target) if lower else (tier.bound < terms.target):
                    raise ValueError(
                        f"kpis.{kpi}: a bonus tier's bound {tier.bound} is worse than the target"
                    )
            if kpi in ("service_level", "abandonment", "adherence") and terms.target > 1:
                raise ValueError(f"kpis.{kpi}: the target is a share (0 to 1), not {terms.target}")
        return self


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceLevelRule(_Rule):
    """Fires when a source's service level (at its contract's threshold, abandons against) is under its
    `sla_target` for `intervals` intervals with traffic in a row; resolves at the next interval that meets it."""

    intervals: Annotated[int, Field(ge=1)] = 2


class RateRule(_Rule):
    """Fires when a rate (abandoned / offered, or overflowed after a wait / arrived) is over `above` in an interval with at
    least `min_calls` calls in its denominator (one abandon of two calls is not a signal); resolves at the next
    such interval at or under it."""

    above: Annotated[float, Field(ge=0, le=1)]
    min_calls: Annotated[int, Field(ge=1)] = 10


class ChronicRule(_Rule):
    """Fires when a source's breach streak reaches its contract's `chronic_after` intervals (and, separately,
    `chronic_after_days` days); resolves at the next interval (day) that meets the SLA."""

    days: bool = True


class OldestWaitRule(_Rule):
    """Fires when, at an interval's end, a caller in a source's queue has waited over `above_s`; resolves at the
    next interval end where none has. Judged where the setup shows the source's queue."""

    above_s: Annotated[int, Field(ge=1, le=86_400)]


class SevereAdherenceRule(_Rule):
    """Fires when, at an interval's end, more than `agents_above` of a source's agents are severely out of
    adherence (out for `adherence_severe_s` or longer, as the RTA board has them); resolves at the next
    interval end with no more than that. Judged where the setup shows the source's agents."""

    agents_above: Annotated[int, Field(ge=0)]


class AlertRules(BaseModel):
    """A tenant's alert rules (`[alerts.*]` in its tenant file); a rule left out is not evaluated. Every rule is
    judged per source on intervals final in every partition, from the same counters the dashboards sum."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_level: ServiceLevelRule | None = None
    abandonment: RateRule | None = None
    # The in-house queue's overflow after a wait: calls that waited the overflow threshold and went to a vendor,
    # over calls that arrived (a split, a targeted call type or a full engagement sends calls by design).
    overflow: RateRule | None = None
    chronic: ChronicRule | None = None
    oldest_wait: OldestWaitRule | None = None
    severe_adherence: SevereAdherenceRule | None = None

    @property
    def any(self) -> bool:
        rules = (self.service_level, self.abandonment, self.overflow, self.chronic, self.oldest_wait,
                 self.severe_adherence)  # fmt: skip
        return any(rules)


class TenantConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    setup: Setup = "virtualized"
    # targeted | shared | full, or free text: a label for the comparison dashboards, not used by the engine.
    engagement: str = ""
    in_house: str = "in-house"
    sources: dict[str, SourceTerms] = Field(default_factory=dict)
    # call type -> label for the dashboards (and, for a targeted engagement, which vendor gets it).
    call_types: dict[str, str] = Field(default_factory=dict)
    alerts: AlertRules = AlertRules()


class EngineConfig(BaseModel):
    """Defaults: 15-minute intervals, 5 minutes allowed lateness, 48 h of correctable history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    allowed_lateness_s: Annotated[int, Field(ge=0)] = 300
    # How far behind its tenant's watermark an event is still accepted (and corrects its intervals); its id is
    # remembered as long, so an event re-sent anywhere within the horizon is counted once.
    retention_hours: Annotated[int, Field(ge=1)] = 48
    # How far an event's time may lie after its Kafka record's timestamp (when it was produced). Live feeds are
    # within clock skew of it and replays of the past behind it; a day covers a feed stamping local time as UTC.
    # Further ahead is refused: one event dated a year on would move its tenant's watermark there, close (and
    # account, for every agent) every interval in between, and refuse every real event after it as too old.
    # A simulation of future days produced to Kafka today needs this raised in the engine config.
    max_lead_hours: Annotated[int, Field(ge=1)] = 24
    # How long a contact's own state is kept after its last event (a QA score later than that is dated by
    # its own time). Bounds memory. (Event ids are remembered for `retention_hours`: see `_no_dedup_hours`.)
    contact_state_hours: Annotated[int, Field(ge=1)] = 6
    # A handled call is "repeated" when the same caller calls again within this window (the FCR proxy).
    repeat_window_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    service_thresholds_s: tuple[int, ...] = (10, 20, 30, 60)
    short_abandon_s: Annotated[int, Field(ge=0)] = 5
    # Adherence (Genesys AdherenceSettings): grace before an out-of-adherence episode is an exception, the
    # severe alert threshold of the live board, and whether working off shift is an exception.
    adherence_grace_s: Annotated[int, Field(ge=0)] = 60
    adherence_severe_s: Annotated[int, Field(ge=0)] = 600
    out_of_shift_is_exception: bool = True
    tenants: dict[str, TenantConfig] = Field(default_factory=dict)
    default_tenant: TenantConfig = TenantConfig()

    @property
    def interval_ms(self) -> int:
        return self.interval_minutes * 60_000

    @property
    def lateness_ms(self) -> int:
        return self.allowed_lateness_s * 1000

    @property
    def max_lead_ms(self) -> int:
        return self.max_lead_hours * 3_600_000

    @property
    def retention_ms(self) -> int:
        return self.retention_hours * 3_600_000

    @property
    def contact_state_ms(self) -> int:
        return self.contact_state_hours * 3_600_000

    def tenant(self, name: str) -> TenantConfig:
        return self.tenants.get(name, self.default_tenant)

    @model_validator(mode="before")
    @classmethod
    def _no_dedup_hours(cls, data: Any) -> Any:
        """Ids used to be remembered for `dedup_hours` (6) while events were accepted for `retention_hours` (48):
        a day re-sent 8 h later was counted twice. Ids are now remembered for as long as their events are
        accepted, so there is nothing to set; a file that still sets it is refused saying why (`extra="forbid"`
        alone would only say that the input is not permitted)."""
        if isinstance(data, dict) and "dedup_hours" in data:
            raise ValueError(
                "dedup_hours is no longer a setting: event ids are remembered for retention_hours (the correction "
                "horizon), so every accepted event is counted once; remove dedup_hours from the configuration"
            )
        return data

    @model_validator(mode="after")
    def _sla_thresholds_are_counted(self) -> EngineConfig:
        """A contract's service level is answered within its threshold over offered; the engine counts waits only
        at `service_thresholds_s`, so any other threshold would give a service level of nothing. Refused here,
        naming the source, instead of read as 0 % (or NULL) by every dashboard."""
        counted = set(self.service_thresholds_s)
        tenants = {**self.tenants, "(default tenant)": self.default_tenant}
        for tenant, config in tenants.items():
            for source, terms in config.sources.items():
                if terms.sla_threshold_s not in counted:
                    raise ValueError(
                        f"tenant {tenant!r}, source {source!r}: sla_threshold_s {terms.sla_threshold_s} is not a "
                        f"counted service-level threshold; the engine counts {sorted(counted)} s "
                        "(service_thresholds_s): add it there or change the contract's threshold"
                    )
        return self
