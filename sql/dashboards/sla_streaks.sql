-- Question: which sources keep missing their SLA, and for how many intervals in a row?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start) with traffic. service_level = answered within the
-- source's SLA threshold / offered (abandons counted against); streak = consecutive breached intervals ending
-- here (intervals without traffic neither break nor extend it); chronic once streak >= chronic_after.
with

terms as (
    select *
    from source_terms final
    where tenant = {tenant:String}
),

per_interval as (
    select
        q.tenant as tenant,
        q.source as source,
        q.interval_start as interval_start,
        sum(q.offered) as offered,
        sum(arrayElement(q.answered_within, indexOf(q.thresholds_s, t.sla_threshold_s))) as answered_in_sla,
        any(t.sla_target) as sla_target,
        any(t.chronic_after) as chronic_after
    from quality_interval as q final
    inner join terms as t on t.tenant = q.tenant and t.source = q.source
    where q.tenant = {tenant:String}
      and q.interval_start >= {from:DateTime64(3, 'UTC')}
      and q.interval_start < {until:DateTime64(3, 'UTC')}
    group by q.tenant, q.source, q.interval_start
    having offered > 0
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
