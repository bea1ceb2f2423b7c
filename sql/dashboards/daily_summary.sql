-- Question: per day of the center's own calendar, how many customer calls arrived, were answered and were
-- lost, and how long was an answered call served on average?
-- Parameters: {tenant:String}; {tz:String} the center's IANA time zone (days are its local days, e.g.
-- 'Asia/Jerusalem'); {from:Date}, {until:Date} a half-open range of local days.
-- Grain: one row per local day: calls (`call_metrics`) in the day they arrived, service (`source_metrics`,
-- every source together) in the day the call entered the queue. mean_service_s is NULL when a source hides
-- its talk time.
with

calls as (
    select *
    from call_metrics(tenant = {tenant:String}, from = toDateTime64('1970-01-01', 3, 'UTC'),
                      until = toDateTime64('2100-01-01', 3, 'UTC'), tz = {tz:String})
    where grain = 'day'
      and day >= {from:Date}
      and day < {until:Date}
),

service as (
    select
        m.day as day,
        sum(m.handled) as handled,
        acd_mean_service_s(acd_observed_sum(m.talk_ms), sum(m.handled)) as mean_service_s
    from source_metrics(tenant = {tenant:String}, from = toDateTime64('1970-01-01', 3, 'UTC'),
                        until = toDateTime64('2100-01-01', 3, 'UTC'), tz = {tz:String}) as m
    where m.grain = 'day'
      and m.offered is not null
    group by m.day
),

final as (
    select
        calls.day as day,
        calls.arrived as arrived,
        calls.e2e_answered as answered,
        calls.e2e_abandoned as abandoned,
        calls.e2e_hidden as outcome_hidden,
        round(calls.e2e_abandon_rate, 4) as abandon_rate,
        service.handled as handled,
        round(service.mean_service_s, 1) as mean_service_s
    from calls
    left join service on service.day = calls.day
    settings join_use_nulls = 1
)

select * from final
order by day
