-- Question: which sources keep missing their SLA, and for how many intervals in a row?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start) with traffic. service_level = answered within the
-- source's SLA threshold / offered (abandons counted against); streak = consecutive breached intervals ending
-- here (intervals without traffic neither break nor extend it); chronic once streak >= chronic_after.
-- Counters come from the source_interval view (migration 0008).
with

per_interval as (
    select
        tenant,
        source,
        interval_start,
        offered,
        answered_in_sla,
        sla_target,
        chronic_after
    from source_interval
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
      and offered > 0
),

flagged as (
    select
        *,
        answered_in_sla / offered as service_level,
        toUInt8(answered_in_sla / offered < sla_target) as breached
    from per_interval
),

runs as (
    select
        *,
        -- Each met interval starts a new run; the breached intervals after it share its run id.
        sum(1 - breached) over (partition by tenant, source order by interval_start rows unbounded preceding) as run_id
    from flagged
),

final as (
    select
        tenant,
        source,
        interval_start,
        offered,
        round(service_level, 4) as service_level,
        sla_target,
        breached,
        toUInt32(if(breached = 1,
            sum(breached) over (partition by tenant, source, run_id order by interval_start rows unbounded preceding),
            0)) as streak,
        toUInt8(streak >= chronic_after) as chronic
    from runs
)

select * from final
order by tenant, source, interval_start
