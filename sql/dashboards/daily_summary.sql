-- Question: per day of the center's own calendar, how many customer calls arrived, were answered and were
-- lost, and how long was an answered call served on average?
-- Parameters: {tenant:String}; {tz:String} the center's IANA time zone (days are its local days, e.g.
-- 'Asia/Jerusalem'); {from:Date}, {until:Date} a half-open range of local days.
-- Grain: one row per local day. Calls count in the day they arrived (overflow_interval), service in the day
-- the call entered the queue (quality_interval). mean_service_s is NULL when a source hides its talk time.
with

calls as (
    select
        toDate(interval_start, {tz:String}) as day,
        sum(arrived) as arrived_n,
        sum(e2e_answered) as answered_n,
        sum(e2e_abandoned) as abandoned_n,
        sum(e2e_hidden) as hidden_n
    from overflow_interval final
    where tenant = {tenant:String}
    group by day
),

service as (
    select
        toDate(interval_start, {tz:String}) as day,
        sum(handled) as handled_n,
        sum(talk_ms) as talk_ms_n,
        countIf(talk_ms is null) as talk_hidden_rows
    from quality_interval final
    where tenant = {tenant:String}
    group by day
),

final as (
    select
        calls.day as day,
        calls.arrived_n as arrived,
        calls.answered_n as answered,
        calls.abandoned_n as abandoned,
        calls.hidden_n as outcome_hidden,
        if(calls.arrived_n = 0, null, round(calls.abandoned_n / calls.arrived_n, 4)) as abandon_rate,
        service.handled_n as handled,
        if(service.talk_hidden_rows > 0 or service.handled_n = 0, null,
           round(service.talk_ms_n / service.handled_n / 1000, 1)) as mean_service_s
    from calls
    left join service on service.day = calls.day
    where calls.day >= {from:Date} and calls.day < {until:Date}
    settings join_use_nulls = 1
)

select * from final
order by day
