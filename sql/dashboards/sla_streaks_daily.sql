-- Question: which sources missed their SLA several days in a row (chronic under-performance)?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, day, UTC) with traffic: the day's service level from its summed
-- counters (not an average of intervals), breached or not, days in a row breached, chronic once that
-- reaches chronic_after_days.
with

terms as (
    select *
    from source_terms final
    where tenant = {tenant:String}
),

per_day as (
    select
        q.tenant as tenant,
        q.source as source,
        toDate(q.interval_start) as day,
        sum(q.offered) as offered,
        sum(arrayElement(q.answered_within, indexOf(q.thresholds_s, t.sla_threshold_s))) as answered_in_sla,
        any(t.sla_target) as sla_target,
        any(t.chronic_after_days) as chronic_after_days
    from quality_interval as q final
    inner join terms as t on t.tenant = q.tenant and t.source = q.source
    where q.tenant = {tenant:String}
      and q.interval_start >= {from:DateTime64(3, 'UTC')}
      and q.interval_start < {until:DateTime64(3, 'UTC')}
    group by q.tenant, q.source, day
    having offered > 0
),

flagged as (
    select
        *,
        answered_in_sla / offered as service_level,
        toUInt8(answered_in_sla / offered < sla_target) as breached
    from per_day
),

runs as (
    select
        *,
        sum(1 - breached) over (partition by tenant, source order by day rows unbounded preceding) as run_id
    from flagged
),

final as (
    select
        tenant,
        source,
        day,
        offered,
        round(service_level, 4) as service_level,
        sla_target,
        breached,
        toUInt32(if(breached = 1,
            sum(breached) over (partition by tenant, source, run_id order by day rows unbounded preceding),
            0)) as streak_days,
        toUInt8(streak_days >= chronic_after_days) as chronic
    from runs
)

select * from final
order by tenant, source, day
