-- Question: which source gives the most quality per unit of cost, and how should next period's traffic be
-- split between them?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per source with traffic and terms (`period` rows of `source_metrics`). value = service level
-- (abandons against, the source's SLA threshold) x FCR proxy (1 when no repeat data) / cost per contact
-- (`acd_value`). The suggested share is each source's value over the sum of values; sources whose cost is not
-- observable get no suggestion (NULL).
with

valued as (
    select
        source,
        service_level,
        coalesce(fcr_proxy, 1) as fcr,
        cost_per_contact,
        acd_value(service_level, coalesce(fcr_proxy, 1), cost_per_contact) as value
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
      and kind != ''
      and offered is not null
),

final as (
    select
        source,
        round(service_level, 4) as service_level,
        round(fcr, 4) as fcr_proxy,
        round(cost_per_contact, 2) as cost_per_contact,
        round(value, 4) as value,
        round(acd_share(value, sum(value) over ()), 4) as suggested_share,
        rank() over (order by value desc) as value_rank
    from valued
)

select * from final
order by value_rank, source
