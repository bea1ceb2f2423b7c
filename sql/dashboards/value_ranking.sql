-- Question: which source gives the most quality per unit of cost, and how should next period's traffic be
-- split between them?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source). value = quality / cost per contact, where quality = service level
-- (abandons against, the source's SLA threshold) x FCR proxy (1 when no repeat data). The suggested share is
-- each source's value over the sum of values; sources whose cost is not observable get no suggestion (NULL).
with

quality as (
    select
        s.tenant as tenant,
        s.source as source,
        sum(s.answered_in_sla) / nullIf(sum(s.offered), 0) as service_level
    from source_interval as s
    where s.tenant = {tenant:String}
      and s.interval_start >= {from:DateTime64(3, 'UTC')}
      and s.interval_start < {until:DateTime64(3, 'UTC')}
    group by s.tenant, s.source
),

repeats as (
    select
        tenant,
        source,
        1 - sum(repeated) / nullIf(sum(handled), 0) as fcr_proxy
    from repeat_interval final
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, source
),

costs as (
    select
        c.tenant as tenant,
        c.source as source,
        if(countIf(c.net_cost is null) > 0, null, sum(c.net_cost) / nullIf(sum(c.handled), 0)) as cost_per_contact
    from cost_interval as c
    where c.tenant = {tenant:String}
      and c.interval_start >= {from:DateTime64(3, 'UTC')}
      and c.interval_start < {until:DateTime64(3, 'UTC')}
    group by c.tenant, c.source
),

valued as (
    select
        quality.source as source,
        quality.service_level as service_level,
        coalesce(repeats.fcr_proxy, 1) as fcr,
        costs.cost_per_contact as cost_per_contact,
        quality.service_level * coalesce(repeats.fcr_proxy, 1) / nullIf(costs.cost_per_contact, 0) as value
    from quality
    left join repeats on repeats.tenant = quality.tenant and repeats.source = quality.source
    left join costs on costs.tenant = quality.tenant and costs.source = quality.source
    settings join_use_nulls = 1
),

final as (
    select
        source,
        round(service_level, 4) as service_level,
        round(fcr, 4) as fcr_proxy,
        round(cost_per_contact, 2) as cost_per_contact,
        round(value, 4) as value,
        round(value / sum(value) over (), 4) as suggested_share,
        rank() over (order by value desc) as value_rank
    from valued
)

select * from final
order by value_rank, source
