-- Question: which sources missed their SLA several days in a row (chronic under-performance)?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, UTC day) with traffic, from the `day` rows of `source_metrics`: the day's
-- service level from its summed counters (not an average of intervals), breached or not, days in a row
-- breached, chronic once that reaches the terms' `chronic_after_days`.
with

final as (
    select
        tenant,
        source,
        day,
        offered,
        round(service_level, 4) as service_level,
        sla_target,
        sla_breached as breached,
        streak as streak_days,
        chronic
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'day'
      and kind != ''
      and offered > 0
)

select * from final
order by tenant, source, day
