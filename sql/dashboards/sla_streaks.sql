-- Question: which sources keep missing their SLA, and for how many intervals in a row?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start) with traffic, from the `interval` rows of
-- `source_metrics`: the service level at the source's SLA threshold (abandons counted against), breached or
-- not, the streak of breached intervals ending here, chronic once it reaches the terms' `chronic_after`.
with

final as (
    select
        tenant,
        source,
        interval_start,
        offered,
        round(service_level, 4) as service_level,
        sla_target,
        sla_breached as breached,
        streak,
        chronic
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'interval'
      and kind != ''
      and offered > 0
)

select * from final
order by tenant, source, interval_start
