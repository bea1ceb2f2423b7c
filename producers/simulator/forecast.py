"""A scenario's intended demand as a forecast: calls and AHT per source x call type x interval.

Calls: the call type's `daily_volume` x the hour's share of `intraday_profile` x the part of the hour the interval
covers (a 15-minute interval: a quarter), every day of the run, for every source the engagement sends the call
type to, in its share:
- `targeted`: the targeted call types all to their vendor, the others all to the in-house center;
- `full`, and `shared` by `split`: by the split (the engagement's shares per source; without any, the vendors'
  shares, equal when none are given), as the simulator routes;
- `shared` by overflow: all to the in-house center. Which calls overflow depends on the queue on the day, not on
  the demand, so the vendor has no forecast (its breaches have no cause: the forecast is not observable).
AHT: the call type's mean handle time at the in-house center (`HandleTime.mean_handle_s`) x the source's
`aht_multiplier`. Repeat calls are forecast as a forecaster would from history: the source's callers call
again with its `repeat_prob`, so its calls are scaled by 1 + repeat_prob (within a day of the first call, most
repeats land the same day; which source a repeat reaches depends on the queue, so this is approximate). The
tier-2 legs of transfers are the same calls and are not forecast.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from producers.simulator.scenario import CallType
from producers.simulator.scenario import Scenario
from streams.events import ForecastRow

HOUR_S = 3600
DAY_S = 24 * HOUR_S


def routing_shares(scenario: Scenario, call_type: CallType) -> dict[str, float]:
    """The fraction of `call_type`'s calls the engagement means each source to get (sources with none left out)."""
    engagement = scenario.engagement
    in_house = scenario.in_house.id
    if engagement.model == "targeted":
        return {engagement.targeted.get(call_type.name, in_house): 1.0}
    if engagement.model == "full" or engagement.shared_mode == "split":
        if engagement.split:
            shares = {source: engagement.split.get(source, 0.0) / 100.0 for source in scenario.source_ids}
        else:
            vendor_shares = scenario.vendor_shares()
            total = sum(vendor_shares.values())
            if total == 0:
                vendor_shares = dict.fromkeys(vendor_shares, 1.0)
                total = float(len(vendor_shares))
            shares = {vendor: share / total for vendor, share in vendor_shares.items()}
        return {source: share for source, share in shares.items() if share > 0}
    return {in_house: 1.0}  # shared by overflow


def interval_shares(scenario: Scenario) -> list[float]:
    """Each interval's share of a day's calls, intervals from midnight UTC (the profile is per hour, UTC)."""
    profile = scenario.intraday_profile
    total = sum(profile)
    width = scenario.interval_minutes * 60
    shares = []
    for start in range(0, DAY_S, width):
        end = min(start + width, DAY_S)
        share = 0.0
        for hour, weight in enumerate(profile):
            overlap = min(end, (hour + 1) * HOUR_S) - max(start, hour * HOUR_S)
            if overlap > 0:
                share += weight / total * overlap / HOUR_S
        shares.append(share)
    return shares


def scenario_forecast(scenario: Scenario) -> list[ForecastRow]:
    """The forecast of every interval of every day of the run, for each source a call type is routed to."""
    shares = interval_shares(scenario)
    first_day = datetime.combine(scenario.start_date, scenario.start_time, tzinfo=UTC)
    width = timedelta(minutes=scenario.interval_minutes)
    rows = []
    for call_type in scenario.call_types:
        for source_id, routed in routing_shares(scenario, call_type).items():
            source = scenario.source(source_id)
            aht_s = call_type.handle.mean_handle_s * source.aht_multiplier
            routed *= 1 + source.repeat_prob
            for day in range(scenario.days):
                start = first_day + timedelta(days=day)
                for index, share in enumerate(shares):
                    rows.append(
                        ForecastRow(
                            scenario.tenant(),
                            source_id,
                            call_type.name,
                            start + index * width,
                            scenario.interval_minutes,
                            call_type.daily_volume * routed * share,
                            aht_s,
                        )
                    )
    return rows
