-- Question: how does each source (in-house and every vendor) perform over a period, on every figure the setup
-- lets the enterprise observe?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per source with traffic and terms, from the `period` rows of `source_metrics`. Service-level
-- variants at the source's SLA threshold, each column named after its denominator: abandons counted against
-- (all offered calls; the SLA is judged on this one), abandons ignored (abandons inside the threshold left
-- out), abandons in favour (they count as met), short abandons excluded, and flow-outs excluded (calls that
-- left the queue for another, e.g. the 30 s overflow to a vendor, left out: Genesys Cloud's default). Offered
-- counts customer calls; legs an internal transfer queued are `transferred_in`. Staffing over the period:
-- open_staffed_agents = the average agents on queue over the intervals the source was open, from its agents'
-- states or, where those are hidden, its interval reports' staffed time (staffing_basis), and seat_fill = that
-- / the contract's seats per open interval. NULL = not observable.
with

period as (
    select *
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
      and kind != ''
      and offered is not null
),

final as (
    select
        source,
        kind,
        offered,
        transferred_in,
        round(service_level, 4) as sl_abandons_against,
        round(sl_abandons_ignored, 4) as sl_abandons_ignored,
        round(sl_abandons_in_favour, 4) as sl_abandons_in_favour,
        round(sl_short_excluded, 4) as sl_short_excluded,
        round(sl_flowouts_excluded, 4) as sl_flowouts_excluded,
        sla_target,
        intervals_breached,
        round(asa_s, 1) as asa_s,
        round(abandon_rate, 4) as abandon_rate,
        round(abandon_rate_excl_short, 4) as abandon_rate_excl_short,
        round(aht_s, 1) as aht_s,
        round(transfer_rate, 4) as transfer_rate,
        round(fcr_proxy, 4) as fcr_proxy,
        repeats_censored as fcr_censored,
        round(qa_score, 1) as qa_score,
        round(csat, 2) as csat,
        round(cost_per_contact, 2) as cost_per_contact,
        round(adherence, 4) as adherence,
        round(conformance, 4) as conformance,
        round(occupancy, 4) as occupancy,
        round(utilisation, 4) as utilisation,
        round(shrinkage, 4) as shrinkage,
        staffing_basis,
        round(open_staffed_agents, 2) as open_staffed_agents,
        contracted_seats,
        round(seat_fill, 4) as seat_fill,
        hidden_reason
    from period
)

select * from final
order by kind, source
