-- Question: interval by interval, was each source staffed for the calls it was offered, and how busy were its
-- agents?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (source, interval) with traffic or agents scheduled or on queue, from the `interval` rows of
-- `source_metrics`. staffed = average agents on queue (available, talking, holding, wrap-up); required = the
-- fewest agents for the source's SLA (its threshold and target) at the interval's offered calls and AHT, by
-- required_model: Erlang A with the callers' mean patience (mean_patience_s, estimated over the day: total wait
-- over abandons), Erlang C where none abandoned that day (or a vendor's report shows no waits);
-- over_under = staffed - required (negative: short). Occupancy = handling / on-queue time, utilisation =
-- handling / scheduled time, shrinkage = 1 - on-queue / scheduled time. Service level at the SLA threshold,
-- abandons counted against. Where the setup hides a vendor's agents but its interval reports give their time on
-- queue, staffed, occupancy and over_under come from the reports (staffing_basis 'vendor report'; 'agent
-- states' where the agents are seen); NULL where neither shows them (staffing_hidden_reason). Utilisation and
-- shrinkage need schedules, which reports do not give (schedule_hidden_reason). contracted_seats = what the
-- vendor contracts to staff in each interval it is open; seats_gap = staffed - contracted seats (negative: short).
-- Forecast against actual (`forecast_interval`): forecast calls and AHT, their variances (actual / forecast - 1),
-- required_for_forecast = the same model's agents at the forecast's calls and AHT, and for each interval in
-- breach its cause: 'under-staffed' (staffed < required_for_forecast), 'sent more than forecast' (offered over
-- the forecast by more than the terms' forecast_tolerance, 10 % by default, staffing meeting its requirement),
-- both, or neither; NULL with breach_cause_hidden_reason where the forecast or the staffing is not observable.
with

final as (
    select
        source,
        interval_start,
        offered,
        round(forecast_calls, 1) as forecast_calls,
        round(volume_variance, 4) as volume_variance,
        round(aht_s, 1) as aht_s,
        round(forecast_aht_s, 1) as forecast_aht_s,
        round(aht_variance, 4) as aht_variance,
        round(service_level, 4) as service_level,
        sla_target,
        round(staffed_agents, 2) as staffed_agents,
        required_agents,
        required_model,
        round(mean_patience_s, 1) as mean_patience_s,
        round(over_under_agents, 2) as over_under_agents,
        staffing_basis,
        contracted_seats,
        round(seats_gap_agents, 2) as seats_gap_agents,
        required_for_forecast,
        breach_cause,
        breach_cause_hidden_reason,
        round(occupancy, 4) as occupancy,
        round(utilisation, 4) as utilisation,
        round(shrinkage, 4) as shrinkage,
        staffing_hidden_reason,
        schedule_hidden_reason
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'interval'
      and kind != ''
      and (offered > 0 or scheduled_ms > 0 or worked_on_queue_ms > 0)
)

select * from final
order by source, interval_start
