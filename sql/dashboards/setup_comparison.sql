-- Question: how do the delivery setups and engagement models compare on the same demand?
-- Parameters: {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open, on interval_start).
-- Grain: one row per tenant (an operation, or a simulated scenario). Service levels use 20 s with abandons
-- counted against; every ratio is a ratio of summed counters. NULL means the setup cannot observe it.
with

tenants as (
    select
        tenant,
        any(setup) as setup,
        any(engagement) as engagement,
        anyIf(source, kind = 'in_house') as in_house
    from source_terms final
    group by tenant
),

arrivals as (
    select
        o.tenant as tenant,
        sum(o.arrived) as arrived_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed)) as overflowed_n,
        if(sum(o.e2e_hidden) > 0, null, sum(arrayElement(o.e2e_answered_within, indexOf(o.thresholds_s, 20))))
            as e2e_in_20s
    from overflow_interval as o final
    where o.interval_start >= {from:DateTime64(3, 'UTC')}
      and o.interval_start < {until:DateTime64(3, 'UTC')}
    group by o.tenant
),

queues as (
    select
        q.tenant as tenant,
        q.source = t.in_house as in_house,
        sum(q.offered) as offered,
        sum(q.abandoned) as abandoned,
        sum(arrayElement(q.answered_within, indexOf(q.thresholds_s, 20))) as in_20s,
        sum(q.answered) as answered,
        -- A wait sum is NULL on vendor-report rows: one of them makes the source's ASA unobservable.
        if(countIf(q.wait_answered_ms is null) > 0, null, sum(q.wait_answered_ms)) as wait_ms,
        sum(q.handled) as handled,
        sum(q.handle_ms) as handle_ms
    from quality_interval as q final
    inner join tenants as t on t.tenant = q.tenant
    where q.interval_start >= {from:DateTime64(3, 'UTC')}
      and q.interval_start < {until:DateTime64(3, 'UTC')}
    group by q.tenant, in_house
),

adherence as (
    select
        a.tenant as tenant,
        a.source = t.in_house as in_house,
        sum(a.exception_ms) as exception_ms,
        sum(a.scheduled_ms) as scheduled_ms
    from adherence_interval as a final
    inner join tenants as t on t.tenant = a.tenant
    where a.interval_start >= {from:DateTime64(3, 'UTC')}
      and a.interval_start < {until:DateTime64(3, 'UTC')}
    group by a.tenant, in_house
),

final as (
    select
        t.tenant as scenario,
        t.setup as setup,
        t.engagement as engagement,
        arrivals.arrived_n as arrived_at_acd,
        round(arrivals.overflowed_n / nullIf(arrivals.arrived_n, 0), 4) as overflow_rate,
        round(arrivals.e2e_in_20s / nullIf(arrivals.arrived_n, 0), 4) as e2e_sl_20s,
        ih.offered as in_house_offered,
        round(ih.in_20s / nullIf(ih.offered, 0), 4) as in_house_sl_20s,
        v.offered as vendor_offered,
        round(v.in_20s / nullIf(v.offered, 0), 4) as vendor_sl_20s,
        round(v.abandoned / nullIf(v.offered, 0), 4) as vendor_abandon_rate,
        round(v.wait_ms / nullIf(v.answered, 0) / 1000, 1) as vendor_asa_s,
        round(v.handle_ms / nullIf(v.handled, 0) / 1000, 1) as vendor_aht_s,
        round(1 - va.exception_ms / nullIf(va.scheduled_ms, 0), 4) as vendor_adherence,
        round(1 - ia.exception_ms / nullIf(ia.scheduled_ms, 0), 4) as in_house_adherence
    from tenants as t
    left join arrivals on arrivals.tenant = t.tenant
    left join queues as ih on ih.tenant = t.tenant and ih.in_house
    left join queues as v on v.tenant = t.tenant and not v.in_house
    left join adherence as va on va.tenant = t.tenant and not va.in_house
    left join adherence as ia on ia.tenant = t.tenant and ia.in_house
    settings join_use_nulls = 1
)

select * from final
order by
    indexOf(['network_delivered', 'enterprise_routed', 'virtualized'], setup),
    multiIf(startsWith(engagement, 'targeted'), 1, startsWith(engagement, 'shared'), 2, 3)
